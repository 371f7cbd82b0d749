package syncagent

import "strings"

// ShellQuote returns s as one POSIX shell word. Words made only of
// characters no shell treats specially are returned unchanged; everything
// else is single-quoted; a quote inside closes the quoting, adds a
// backslash-escaped quote and reopens it. s must not contain
// NUL, which no shell word can hold.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@%+:,./_-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
