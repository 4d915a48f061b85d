package knowledge

import (
	"strings"
	"unicode/utf8"
)

// Composing a reply: the chosen sentences in document order, then one
// source line per passage, within MaxReplyBytes.

// maxBodyRunes bounds the answering sentences, leaving room for sources.
const maxBodyRunes = 420

// compose orders the chosen sentences as they stand in their documents,
// adds a short neighbour to a fragment too short to read alone, and
// renders text with one source line per passage used; note, when not
// empty, leads the text.
func (b *Base) compose(chosen []candidate, whole bool, note string) ([]Source, string) {
	type span struct{ lo, hi int }
	byPassage := map[*Passage]*span{}
	var order []*Passage
	for _, c := range chosen {
		s, ok := byPassage[c.p]
		if !ok {
			s = &span{c.i, c.i}
			byPassage[c.p] = s
			order = append(order, c.p)
		}
		s.lo, s.hi = min(s.lo, c.i), max(s.hi, c.i)
	}
	var bodies, cites []string
	var sources []Source
	used := 0
	for _, p := range order {
		s := byPassage[p]
		// a sentence under ~60 characters rarely answers alone (the figure
		// or the name is often in the next): add the next
		if n := utf8.RuneCountInString(strings.Join(p.Sentences[s.lo:s.hi+1], "")); n < 60 && s.hi+1 < len(p.Sentences) {
			s.hi++
		}
		// a how-to question gets the procedure that follows, as far as the
		// body allows
		for whole && s.hi+1 < len(p.Sentences) && used+utf8.RuneCountInString(strings.Join(p.Sentences[s.lo:s.hi+2], "")) <= maxBodyRunes {
			s.hi++
		}
		text := strings.TrimSpace(strings.Join(p.Sentences[s.lo:s.hi+1], ""))
		n := utf8.RuneCountInString(text)
		if used > 0 && used+n > maxBodyRunes {
			continue
		}
		used += n
		bodies = append(bodies, text)
		cites = append(cites, p.cite)
		sources = append(sources, Source{File: p.Doc.File, Title: p.Doc.Title, Section: p.Section(), Quote: text})
	}
	if len(bodies) > 0 {
		bodies[0] = note + bodies[0] // the note leads; trimming cuts from the end
	}
	return sources, render(bodies, cites)
}

func sectionSuffix(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

func (b *Base) citeFAQ(e *faqEntry) string {
	for _, d := range b.docs {
		if d.File == e.File && (e.Title == "" || d.Title == e.Title) {
			return d.Citation() + sectionSuffix(e.Section)
		}
	}
	if e.Title != "" {
		return "《" + e.Title + "》" + sectionSuffix(e.Section)
	}
	return e.File
}

// Render lays out a reply as answers are: the body, then one 来源 line per
// distinct citation, within MaxReplyBytes (the body is cut at a sentence).
func Render(body string, cites []string) string { return render([]string{body}, cites) }

// render lays out the answer: the sentences, then "来源:" and one line per
// distinct source, trimmed to MaxReplyBytes by dropping whole sentences
// from the end of the body.
func render(bodies, cites []string) string {
	var uniq []string
	seen := map[string]bool{}
	for _, c := range cites {
		if !seen[c] {
			seen[c] = true
			uniq = append(uniq, c)
		}
	}
	tail := "\n来源:" + strings.Join(uniq, "\n来源:")
	body := strings.Join(bodies, "\n")
	for len(body)+len(tail) > MaxReplyBytes {
		ss := splitSentences(body)
		if len(ss) <= 1 {
			body = truncateUTF8(body, MaxReplyBytes-len(tail)-len("…")) + "…"
			break
		}
		body = strings.Join(ss[:len(ss)-1], "")
	}
	if len(tail) > MaxReplyBytes {
		return truncateUTF8(body+tail, MaxReplyBytes)
	}
	return body + tail
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
