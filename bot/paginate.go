package bot

import (
	"strings"
	"unicode/utf8"

	"policybot/handlers"
	"policybot/knowledge"
)

// paginate splits text into WeChat-sized pages. Every page but the last
// ends with handlers.TextMore; pages break after a sentence (。！？；or a
// line end) when one fits, else at a character boundary. Every page is at
// most knowledge.MaxReplyBytes bytes.
func paginate(text string) []string {
	if len(text) <= knowledge.MaxReplyBytes {
		return []string{text}
	}
	tail := "\n" + handlers.TextMore
	limit := knowledge.MaxReplyBytes - len(tail)
	var pages []string
	for len(text) > knowledge.MaxReplyBytes {
		cut := sentenceCut(text, limit)
		pages = append(pages, strings.TrimRight(text[:cut], "\n")+tail)
		text = strings.TrimLeft(text[cut:], "\n")
	}
	return append(pages, text)
}

// sentenceCut returns the largest cut <= limit bytes that ends a sentence,
// or the largest character boundary when no sentence ends in the window.
func sentenceCut(s string, limit int) int {
	best := 0
	for i, r := range s {
		end := i + utf8.RuneLen(r)
		if end > limit {
			break
		}
		switch r {
		case '。', '！', '？', '；', '\n', '!', '?', ';':
			best = end
		}
	}
	if best > limit/3 { // a sentence end in a reasonable place
		return best
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return cut
}
