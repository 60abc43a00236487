#!/bin/sh
# The floor: the fewest git commands that do a scenario's work, one checkout after another, no Ansible.
#   floor.sh SCENARIO LIST      LIST holds one "URL DEST" line per checkout
# clone: git clone. noop, check: git ls-remote + git rev-parse, compared. update, drift: git fetch + git reset --hard.
# The partial clone group's floors, in place of a scenario: clone-then-checkout (git clone --no-checkout, then
# git checkout: the module's two steps) and clone-filter (git clone --filter=blob:none: git's own partial clone).
set -eu
scenario=$1
while read -r url dest; do
    case $scenario in
        clone)
            git clone --quiet "$url" "$dest" ;;
        clone-then-checkout)
            git clone --quiet --no-checkout "$url" "$dest"
            git -C "$dest" checkout --quiet ;;
        clone-filter)
            git clone --quiet --filter=blob:none "$url" "$dest" ;;
        noop | check)
            remote=$(git ls-remote "$url" refs/heads/main)
            [ "${remote%%	*}" = "$(git -C "$dest" rev-parse HEAD)" ] || echo "out of step: $dest" ;;
        update | drift)
            git -C "$dest" fetch --quiet origin main
            git -C "$dest" reset --quiet --hard FETCH_HEAD ;;
        *)
            echo "floor.sh: unknown scenario $scenario" >&2
            exit 2 ;;
    esac
done < "$2"
