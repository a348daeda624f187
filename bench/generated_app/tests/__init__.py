"""The generated app's controller tests, ported from the pytest functions
`proper install auth` and `proper g resource` write to ProperTestCase
classes: one class per generated module, one method per test function,
the same requests and the same checks (bench/generated_app.py)."""
