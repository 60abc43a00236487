"""Print facts that the test tooling reads from the installed ansible-test.

  python ansible_test_facts.py pythons  ->  the Python versions ansible-test can test (e.g. 3.8 ... 3.13)
  python ansible_test_facts.py pips     ->  the pip versions it bootstraps venvs with (e.g. 24.2)

The pip version names the get-pip script ansible-test looks for in its cache
(~/.ansible/test/cache/get_pip_<version>.py).
"""

import pathlib
import re
import sys
import types

from ansible_test._util.target.common import constants


def python_versions():
    """Return the Python versions ansible-test supports, oldest first."""
    return list(constants.REMOTE_ONLY_PYTHON_VERSIONS) + list(constants.CONTROLLER_PYTHON_VERSIONS)


def pip_versions():
    """Return the pip versions ansible-test bootstraps into the venvs of those Pythons."""
    try:
        from ansible_test._internal.python_requirements import get_venv_packages  # pylint: disable=import-outside-toplevel
    except ImportError:  # internal API moved: fall back to reading the pins from the source
        import ansible_test  # pylint: disable=import-outside-toplevel

        source = pathlib.Path(ansible_test.__file__).parent.joinpath("_internal", "python_requirements.py").read_text()
        return sorted(set(re.findall(r"""\bpip['"]?\s*[=:]\s*['"](\d+(?:\.\d+)+)['"]""", source)))

    return sorted({get_venv_packages(types.SimpleNamespace(version=version))["pip"] for version in python_versions()})


def main():
    """Print the requested facts, space separated."""
    facts = {"pythons": python_versions, "pips": pip_versions}
    if len(sys.argv) != 2 or sys.argv[1] not in facts:
        sys.exit("usage: {} {{{}}}".format(sys.argv[0], ",".join(facts)))
    values = facts[sys.argv[1]]()
    if not values:
        sys.exit(f"error: found no {sys.argv[1]} in ansible-test")
    print(" ".join(values))


if __name__ == "__main__":
    main()
