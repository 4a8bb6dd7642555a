package datasource

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// letters NFD does not decompose into a base letter and a mark, spelled the
// way a person typing plain ASCII would.
var foldLetters = map[rune]string{
	'ø': "o", 'Ø': "o", 'ł': "l", 'Ł': "l", 'đ': "d", 'Đ': "d", 'ß': "ss",
	'æ': "ae", 'Æ': "ae", 'œ': "oe", 'Œ': "oe", 'ı': "i", 'þ': "th", 'Þ': "th", 'ð': "d", 'Ð': "d",
}

// Fold is the one text key search and NAME/EMAIL order use, live and
// synced alike (the synced store keeps it in a column, so both paths agree
// by construction): lower case, accents removed ("Kučera" → "kucera"),
// whitespace runs one space, trimmed. It is collation-independent: keys
// compare byte by byte.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if f, ok := foldLetters[r]; ok {
			b.WriteString(f)
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
