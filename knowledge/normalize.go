package knowledge

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Normalize maps s to the form that indexing and matching compare:
// Unicode NFKC (full-width letters, digits and punctuation become
// half-width), common traditional characters become simplified, ASCII is
// lower-cased, Chinese punctuation is folded onto its ASCII counterpart and
// all white space is removed. It never fails; text it does not understand
// passes through unchanged.
func Normalize(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' {
			continue
		}
		if m, ok := punctFold[r]; ok {
			r = m
		} else if m, ok := tradToSimp[r]; ok {
			r = m
		} else if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// punctFold folds Chinese punctuation that NFKC leaves alone.
var punctFold = map[rune]rune{
	'。': '.', '、': ',', '，': ',', '“': '"', '”': '"', '‘': '\'', '’': '\'',
	'《': '<', '》': '>', '〈': '<', '〉': '>', '【': '[', '】': ']', '〔': '[', '〕': ']',
	'—': '-', '–': '-', '～': '~', '…': '.', '·': '.',
}

// isHan reports whether r is a CJK ideograph.
func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// isWordRune reports whether r belongs to an ASCII word or number atom.
func isWordRune(r rune) bool {
	return (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || r == '.' || r == '%'
}

// segments splits normalised text into runs of atoms separated by
// punctuation. An atom is one Han character or one run of ASCII letters and
// digits ("2017", "4.9", "20%"). Bigrams are only formed inside a segment, so
// they never straddle a comma or a full stop.
func segments(normalized string) [][]string {
	var segs [][]string
	var cur []string
	var word strings.Builder
	flushWord := func() {
		if word.Len() > 0 {
			w := strings.Trim(word.String(), ".")
			if w != "" {
				cur = append(cur, w)
			}
			word.Reset()
		}
	}
	flushSeg := func() {
		flushWord()
		if len(cur) > 0 {
			segs = append(segs, cur)
			cur = nil
		}
	}
	for _, r := range normalized {
		switch {
		case isHan(r):
			flushWord()
			cur = append(cur, string(r))
		case isWordRune(r):
			word.WriteRune(r)
		default:
			flushSeg()
		}
	}
	flushSeg()
	return segs
}

// runeOffsets returns the byte offset of each rune of s, then len(s):
// the runes i..j-1 are s[off[i]:off[j]], cut without copying.
func runeOffsets(s string) []int {
	off := make([]int, 0, len(s)+1)
	for i := range s {
		off = append(off, i)
	}
	return append(off, len(s))
}

// termCounts returns the unigram and bigram terms of normalised text with
// their frequencies. It is the single definition of what the index stores.
func termCounts(normalized string) map[string]int {
	tc := make(map[string]int)
	for _, seg := range segments(normalized) {
		for i, a := range seg {
			tc[a]++
			if i+1 < len(seg) {
				tc[a+seg[i+1]]++
			}
		}
	}
	return tc
}
