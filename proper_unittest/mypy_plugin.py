"""mypy plugin: ``self.app`` is the app under test, whatever the class sets ``app`` to.

A test case class names its app with ``app = "myapp.main:app"`` (or the
``App``); ``setUpClass`` replaces it with the App itself. mypy types an
attribute assigned in a subclass's body by what is assigned (a ``str``), so
without this plugin ``self.app.config`` is "str has no attribute config".
With it, ``self.app`` in a test case has the type the library declares for
the app (``_ProperTestMixin.app``: ``Any``, as Proper ships no types), and
``MyTests.app`` keeps the type of what the class set. Enable it in the
project's mypy configuration::

    [tool.mypy]
    plugins = ["proper_unittest.mypy_plugin"]

pyright needs nothing: it types the attribute as the base class declares it.
"""
from collections.abc import Callable

from mypy.nodes import Var
from mypy.plugin import AttributeContext, Plugin
from mypy.types import AnyType, Instance, Type, TypeOfAny

#: The class declaring ``app`` for every test case class of the library.
TEST_CASE_BASE = "proper_unittest.testcase._ProperTestMixin"


class ProperUnittestPlugin(Plugin):
    """Gives ``self.app`` of the library's test case classes the app's type."""

    def get_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        """The hook for ``<class>.app`` attributes; the others are left alone."""
        return app_type if fullname.rpartition(".")[2] == "app" else None


def app_type(ctx: AttributeContext) -> Type:
    """The type of ``app`` read on an instance of a test case class: the
    library's declared type; elsewhere (or assigned to) mypy's own."""
    instance = ctx.type
    if ctx.is_lvalue or not isinstance(instance, Instance):
        return ctx.default_attr_type
    for info in instance.type.mro:
        if info.fullname == TEST_CASE_BASE:
            declared = info.names.get("app")
            node = declared.node if declared is not None else None
            if isinstance(node, Var) and node.type is not None:
                return node.type
            return AnyType(TypeOfAny.special_form)
    return ctx.default_attr_type


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point: the plugin class (for any mypy version)."""
    return ProperUnittestPlugin
