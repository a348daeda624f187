"""Running test cases from inside a test, to check what a user would see."""
import io
import unittest


def run_inner(*test_classes, verbosity: int = 0) -> tuple[unittest.TestResult, str]:
    """Run `test_classes` (defined inside a test, so discovery never sees
    them) in their declared method order; return the result and the output."""
    loader = unittest.TestLoader()
    loader.sortTestMethodsUsing = None
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(cls) for cls in test_classes)
    stream = io.StringIO()
    result = unittest.TextTestRunner(stream=stream, verbosity=verbosity).run(suite)
    return result, stream.getvalue()
