# Sourced by setup.sh and demo_setup.sh: find_python 3.8 prints the path of a working python3.8, newest pyenv
# build first, then /usr/local/bin and /usr/bin; it fails when there is none.
pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}

find_python() {
    local candidate pyenv_builds=("$pyenv_root"/versions/"$1".*/bin/python"$1")
    for candidate in $(printf '%s\n' "${pyenv_builds[@]}" | sort -V -r) /usr/local/bin/python"$1" /usr/bin/python"$1"; do
        if [[ -x $candidate ]] && "$candidate" -c '' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}
