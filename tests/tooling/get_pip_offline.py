"""Offline stand-in for get-pip.py, used by ansible-test to bootstrap pip in new venvs.

ansible-test creates its virtual environments without pip and then runs the
get-pip.py script it downloads from ci-files.testing.ansible.com, which is not
reachable here.  It first looks for a cached copy at
~/.ansible/test/cache/get_pip_<version>.py, so ``make venv`` installs this file
there.  Like get-pip.py it takes pip options and requirements as arguments,
e.g. ``--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel``.

It seeds pip with the interpreter's own ensurepip (in a subprocess, so that
ensurepip's in-process pip run cannot disturb this one), then installs the
requested packages with that pip from the configured package index.
"""

import importlib.util
import subprocess
import sys


def run(cmd, **kwargs):
    """Run a command; exit with its status if it fails."""
    status = subprocess.call(cmd, **kwargs)
    if status:
        sys.exit(status)


def main(argv):
    """Seed pip with ensurepip, then pip-install what get-pip.py was asked for."""
    skip = {"setuptools": "--no-setuptools" in argv, "wheel": "--no-wheel" in argv}
    pip_args = [arg for arg in argv if arg not in ("--no-setuptools", "--no-wheel")]
    had_setuptools = importlib.util.find_spec("setuptools") is not None

    run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], stdout=subprocess.DEVNULL)

    # get-pip.py installs setuptools and wheel unless told not to.
    for name, skipped in skip.items():
        if not skipped and not any(arg.startswith(name) for arg in pip_args):
            pip_args.append(name)

    run([sys.executable, "-m", "pip", "install"] + pip_args)

    # ensurepip brings setuptools along on Python < 3.12; honour --no-setuptools.
    importlib.invalidate_caches()
    if skip["setuptools"] and not had_setuptools and importlib.util.find_spec("setuptools") is not None:
        run([sys.executable, "-m", "pip", "uninstall", "--yes", "--disable-pip-version-check", "setuptools"])


if __name__ == "__main__":
    main(sys.argv[1:])
