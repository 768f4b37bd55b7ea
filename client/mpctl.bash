# mpctl.bash: bash completion for mpctl(1), installed by `make install`
# into bash-completion's directory. zsh: `autoload -U bashcompinit &&
# bashcompinit`, then source this file.
#
# The candidates come from mpctl itself (`mpctl --complete CWORD WORD...`),
# whose tables are the method catalogue's: types, verbs, the options a verb
# takes, and for -n, --lock, info and rm the names of the running daemon's
# objects (of the command's type). Where mpctl offers nothing (a file for
# -k or --file, exec's command), bash's own completion applies.

_mpctl() {
	local IFS=$'\n' cmd=${COMP_WORDS[0]}

	cmd=${cmd/#\~/$HOME}
	COMPREPLY=($(command "$cmd" --complete "$COMP_CWORD" \
		"${COMP_WORDS[@]}" 2>/dev/null))
}
complete -o bashdefault -o default -F _mpctl mpctl
