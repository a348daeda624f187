"""How the runner stops on SIGTERM and SIGINT, in this process: the signal
becomes Interrupted (exit status 128 + its number), is passed on to the
child processes being forwarded to, and later signals are ignored until the
process exits. Real signals, real child processes."""

import signal
import subprocess
import sys
import threading
import unittest

from proper_unittest.runner import signals
from proper_unittest.runner.signals import Interrupted, forwarding_to, stop_on_signals

# A child that says it is ready, then waits to be ended by a signal (SIGINT
# handled as usual even when this process was started with it ignored).
WAITER = ("import signal, time; signal.signal(signal.SIGINT, signal.default_int_handler); "
          "print('ready', flush=True); time.sleep(60)")


class SignalsTestCase(unittest.TestCase):
    """Puts this process's handlers and the module's state back after each test."""

    def setUp(self):
        handlers = {signum: signal.getsignal(signum) for signum in signals.HANDLED_SIGNALS}
        stopping = signals._stopping

        def restore():
            signals._stopping = stopping  # this process is not really on its way out
            for signum, handler in handlers.items():
                signal.signal(signum, handler)

        self.addCleanup(restore)

    def waiter(self) -> subprocess.Popen:
        """A running child process (killed at the end of the test)."""
        child = subprocess.Popen([sys.executable, "-c", WAITER], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
        self.addCleanup(child.wait)
        self.addCleanup(child.kill)
        self.addCleanup(child.stdout.close)
        self.assertEqual(child.stdout.readline().strip(), "ready")
        return child

    def interrupt(self, signum: int) -> Interrupted:
        """Send `signum` to this process inside stop_on_signals; the Interrupted raised."""
        with self.assertRaises(Interrupted) as raised:
            with stop_on_signals():
                signal.raise_signal(signum)
                self.fail("the signal did not stop the block")
        return raised.exception


class StopTests(SignalsTestCase):
    def test_sigterm_raises_interrupted_with_143(self):
        stopped = self.interrupt(signal.SIGTERM)
        self.assertIsInstance(stopped, KeyboardInterrupt)
        self.assertEqual(stopped.signum, signal.SIGTERM)
        self.assertEqual(stopped.exit_status, 143)
        self.assertEqual(str(stopped), "SIGTERM")

    def test_sigint_raises_interrupted_with_130(self):
        stopped = self.interrupt(signal.SIGINT)
        self.assertEqual(stopped.exit_status, 130)
        self.assertEqual(str(stopped), "SIGINT")

    def test_later_signals_are_ignored_after_the_block_too(self):
        self.interrupt(signal.SIGINT)
        for signum in signals.HANDLED_SIGNALS:
            self.assertIs(signal.getsignal(signum), signal.SIG_IGN, signal.Signals(signum).name)
        # Ignored for real: this process goes on.
        signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGINT)

    def test_without_a_signal_the_previous_handlers_come_back(self):
        def mine(signum, frame):
            raise AssertionError("not expected")

        signal.signal(signal.SIGTERM, mine)
        with stop_on_signals():
            self.assertIs(signal.getsignal(signal.SIGTERM), signals._on_signal)
            self.assertIs(signal.getsignal(signal.SIGINT), signals._on_signal)
        self.assertIs(signal.getsignal(signal.SIGTERM), mine)

    def test_outside_the_main_thread_nothing_is_set(self):
        outcome = []

        def run():
            try:
                with stop_on_signals():
                    outcome.append(signal.getsignal(signal.SIGTERM))
            except Exception as error:  # noqa: BLE001 - reported below
                outcome.append(error)

        before = signal.getsignal(signal.SIGTERM)
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        self.assertEqual(outcome, [before])


class ForwardingTests(SignalsTestCase):
    def test_the_signal_is_passed_on_to_the_children(self):
        first, second = self.waiter(), self.waiter()
        with forwarding_to(first), forwarding_to(second):
            self.interrupt(signal.SIGTERM)
        self.assertEqual(first.wait(timeout=10), -signal.SIGTERM)
        self.assertEqual(second.wait(timeout=10), -signal.SIGTERM)

    def test_the_same_signal_is_passed_on(self):
        child = self.waiter()
        with forwarding_to(child):
            self.interrupt(signal.SIGINT)
        # KeyboardInterrupt: Python ends the child by SIGINT.
        self.assertEqual(child.wait(timeout=10), -signal.SIGINT)

    def test_a_child_that_exited_is_skipped_and_the_others_get_it(self):
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()
        child = self.waiter()
        with forwarding_to(gone), forwarding_to(child):
            self.interrupt(signal.SIGTERM)
        self.assertEqual(child.wait(timeout=10), -signal.SIGTERM)

    def test_only_while_the_block_runs(self):
        child = self.waiter()
        with forwarding_to(child) as forwarded:
            self.assertIs(forwarded, child)
        self.interrupt(signal.SIGTERM)
        with self.assertRaises(subprocess.TimeoutExpired):
            child.wait(timeout=1)
