# bash completion for migrator and scaffold. The programs answer themselves:
# `PROGRAM __complete WORD...` prints the candidates for the last word, one a line (commands,
# options, revision ids); nothing means a file name.
_migrator_complete() {
    local IFS=$'\n'
    local current="${COMP_WORDS[COMP_CWORD]}"
    local candidates
    candidates=$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
    if [ -n "$candidates" ]; then
        COMPREPLY=($(compgen -W "$candidates" -- "$current"))
    else
        COMPREPLY=($(compgen -f -- "$current"))
    fi
}
complete -F _migrator_complete migrator scaffold
