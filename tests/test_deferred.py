"""pipelines/deferred.py: a deferred module runs its code on first use, and is then the module."""

import subprocess
import sys
import textwrap

import pytest

from pipelines import deferred


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A package `dfpkg` (a top-level module `dfmod` and a submodule `dfpkg.sub`) that count their
    imports in a list on the builtins module."""
    (tmp_path / "dfpkg").mkdir()
    (tmp_path / "dfpkg" / "__init__.py").write_text("")
    body = textwrap.dedent("""
        '''the doc'''
        import builtins
        builtins.DEFERRED_IMPORTS.append(__name__)
        VALUE = 42
        def twice(x):
            return 2 * x
        """)
    (tmp_path / "dfmod.py").write_text(body)
    (tmp_path / "dfpkg" / "sub.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    import builtins

    monkeypatch.setattr(builtins, "DEFERRED_IMPORTS", [], raising=False)
    yield builtins.DEFERRED_IMPORTS
    for name in ("dfmod", "dfpkg.sub", "dfpkg"):
        sys.modules.pop(name, None)


def test_import_statement_does_not_run_the_module_attribute_read_does(package):
    assert deferred.defer(("dfmod",)) == ["dfmod"]
    import dfmod

    assert package == []
    assert dfmod.VALUE == 42
    assert package == ["dfmod"]
    assert dfmod.twice(4) == 8 and dfmod.__doc__ == "the doc"
    assert package == ["dfmod"]  # once
    assert type(sys.modules["dfmod"]).__name__ == "module"  # the real module from then on


def test_from_package_import_submodule(package):
    assert deferred.defer(("dfpkg.sub",)) == ["dfpkg.sub"]
    from dfpkg import sub

    assert package == []
    assert sub.VALUE == 42 and package == ["dfpkg.sub"]
    import dfpkg.sub as again

    assert again.twice(1) == 2 and package == ["dfpkg.sub"]
    assert sys.modules["dfpkg"].sub is sys.modules["dfpkg.sub"]


def test_imported_missing_or_already_loaded_modules_are_left_alone(package):
    import dfmod  # noqa: F401

    assert deferred.defer(("dfmod", "no_such_module_povmon")) == []
    assert package == ["dfmod"]


def test_great_expectations_imports_without_altair_and_uses_it_when_asked():
    """In a fresh interpreter: gx() leaves altair, jsonschema and scipy.stats unimported; the
    kl-divergence expectation's module reaches them when it needs them."""
    code = textwrap.dedent("""
        import sys
        from pipelines.validate.gx_duckdb import gx
        gx()
        loaded = [m for m in ("altair", "jsonschema", "rfc3987_syntax", "scipy.stats")
                  if type(sys.modules.get(m)).__name__ == "module"]
        assert loaded == [], loaded
        from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl
        assert abs(kl.stats.entropy([0.5, 0.5], [0.9, 0.1]) - 0.5108256237659907) < 1e-12
        assert kl.alt.Chart.__module__.startswith("altair.")
        import jsonschema
        try:
            jsonschema.validate(1, {"type": "string"})
        except jsonschema.ValidationError:
            print("ok")
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")


def test_find_spec_of_a_deferred_module_answers_without_running_it(package):
    # a library probing for an optional module (importlib.util.find_spec) must get its spec, not
    # ValueError('dfmod.__spec__ is None'), and the probe must not run the module
    import importlib.util

    assert deferred.defer(("dfmod",)) == ["dfmod"]
    spec = importlib.util.find_spec("dfmod")
    assert spec is not None and spec.name == "dfmod" and spec.origin.endswith("dfmod.py")
    assert package == []
    import dfmod

    assert package == [] and dfmod.VALUE == 42 and package == ["dfmod"]
