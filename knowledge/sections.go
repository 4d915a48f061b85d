package knowledge

import (
	"regexp"
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Passage is a run of whole sentences under one heading path: the unit that
// is indexed, retrieved and cited.
type Passage struct {
	ID        int
	Doc       *Document
	Path      []string // heading path, outermost first, e.g. [三、整改措施 3、压实帮扶责任]
	Text      string   // original text of the passage
	Sentences []string // Text split into sentences, in order
	// Role is what its section does: rules and measures, or problems found.
	Role Role

	normSentences []string // Normalize of each sentence, filled by Base.finish
	normContext   string   // Normalize of the heading path and document title
	normEvidence  string   // Normalize of text, path and title: what must cover a question
	cite          string   // the source line answers cite it with: 《title》(文号) › section
	sentFacts     []facts  // facts of each sentence
	// termMasks lists, by term id, which sentences (bit i) contain each
	// index term, and ctxBit when the heading path or title does; nil when
	// the passage has more than 63 sentences.
	termMasks []termMask
}

type termMask struct {
	id   int32
	mask uint64
}

// holdsAll reports whether p holds every term of ids somewhere (a quick
// test before a substring search).
func (p *Passage) holdsAll(ids []int32) bool {
	if p.termMasks == nil {
		return true
	}
	for _, id := range ids {
		if p.sentencesWith(id) == 0 {
			return false
		}
	}
	return true
}

// ctxBit marks a term of a passage's heading path or title in its masks.
const ctxBit = uint64(1) << 63

// sentencesWith returns the bitmask of sentences containing term id.
func (p *Passage) sentencesWith(id int32) uint64 {
	tm := p.termMasks
	lo, hi := 0, len(tm) // binary search, written out: this is on every question's hot path
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if tm[mid].id < id {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(tm) && tm[lo].id == id {
		return tm[lo].mask
	}
	return 0
}

// Section renders the heading path for a citation: "三、整改措施 › 3、压实帮扶责任".
func (p *Passage) Section() string { return strings.Join(p.Path, " › ") }

// Heading ranks, outermost first. Chinese official documents number their
// sections 一、 / (一) / 1. or 1、 / (1) / ①; a level may be skipped, so a
// heading closes every open heading of the same or a deeper rank.
const (
	rankTitle = iota // curated headings, 【栏目】, Markdown #
	rankChapter
	rankArticle // 第十五条: a regulation's article, answered whole with its items
	rankCN      // 一、
	rankParCN   // (一)
	rankNum     // 1、 1.
	rankParNum
	rankCircled
)

var headingPatterns = []struct {
	rank int
	re   *regexp.Regexp
}{
	{rankChapter, regexp.MustCompile(`^第[一二三四五六七八九十百零〇]+[编章节篇部分]`)},
	{rankArticle, articleRe},
	{rankCN, regexp.MustCompile(`^[一二三四五六七八九十]{1,3}[、.]`)},
	{rankParCN, regexp.MustCompile(`^\([一二三四五六七八九十]{1,3}\)`)},
	{rankNum, regexp.MustCompile(`^\d{1,2}(、|\.[^\d])`)},
	{rankParNum, regexp.MustCompile(`^\(\d{1,2}\)`)},
	{rankCircled, regexp.MustCompile(`^[①-⑳]`)},
}

// articleRe matches an article number at the start of a line.
var articleRe = regexp.MustCompile(`^第[一二三四五六七八九十百零〇]+条`)

// stripArticleNumber drops a leading article number (第十九条): it numbers
// the text, it is no figure the text states.
func stripArticleNumber(s string) string {
	if m := articleRe.FindString(s); m != "" {
		return s[len(m):]
	}
	return s
}

// maxLabelRunes bounds a heading's label. A numbered line whose first clause
// is longer is a list item, not a heading.
const maxLabelRunes = 32

// heading reports whether line opens a section, with its rank and label.
// The label is the line up to its first full stop or colon, so
// "1、对象识别不准。村组没有…" has the label "1、对象识别不准".
func heading(line string, extra map[string]bool) (rank int, label string, ok bool) {
	n := norm.NFKC.String(line)
	if extra[line] {
		return rankTitle, line, true
	}
	if (strings.HasPrefix(line, "【") && strings.HasSuffix(line, "】") || strings.HasPrefix(n, "[") && strings.HasSuffix(n, "]")) && len([]rune(n)) <= maxLabelRunes {
		return rankTitle, line, true // 【栏目】
	}
	if strings.HasPrefix(line, "#") {
		t := strings.TrimSpace(strings.TrimLeft(line, "#"))
		return rankTitle, t, t != ""
	}
	if m := articleRe.FindString(n); m != "" {
		// an article is labelled by its number alone; its text is body
		return rankArticle, line[:len(m)], true
	}
	for _, p := range headingPatterns {
		if p.rank == rankArticle {
			continue
		}
		subject := n
		if p.rank == rankCircled {
			subject = line // NFKC turns ① into 1
		}
		if !p.re.MatchString(subject) {
			continue
		}
		pre := numberPrefixLen(line)
		label = line
		if j := strings.IndexAny(line[pre:], "。:：;；"); j >= 0 {
			label = line[:pre+j]
		}
		label = strings.TrimRight(label, ",，、 ")
		if len([]rune(label)) > maxLabelRunes {
			return 0, "", false
		}
		return p.rank, label, true
	}
	return 0, "", false
}

// numberPrefixLen returns the byte length of a leading section number such
// as "1." or "(一)" so that its dot is not taken for the clause end.
func numberPrefixLen(line string) int {
	for i, r := range line {
		if r == '.' || r == '、' || r == ')' || r == '）' {
			return i + len(string(r))
		}
		if i > 12 {
			break
		}
	}
	return 0
}

// maxArticleRunes is the soft size of a passage of an article: an article
// with its paragraphs and items is one unit, split only when longer.
const maxArticleRunes = 280

// maxPassageRunes is the soft size of a passage. Paragraphs under one
// heading are packed up to it; a longer paragraph is cut between sentences,
// never inside one.
const maxPassageRunes = 280

// buildPassages walks the lines of one document, tracking the heading path,
// and packs the body text into passages.
func buildPassages(d *Document, lines []string, extraHeadings []string) []*Passage {
	extra := make(map[string]bool, len(extraHeadings))
	for _, h := range extraHeadings {
		extra[h] = true
	}
	type open struct {
		rank  int
		label string
	}
	var stack []open
	var out []*Passage
	var cur []string // sentences of the passage being packed
	curRunes := 0
	var curPath []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, &Passage{Doc: d, Path: curPath, Text: strings.Join(cur, ""), Sentences: cur})
		}
		cur, curRunes = nil, 0
	}
	pathNow := func() []string {
		p := make([]string, len(stack))
		for i, o := range stack {
			p[i] = o.label
		}
		return p
	}
	inArticle := func() bool { return len(stack) > 0 && stack[len(stack)-1].rank == rankArticle }
	var lead string // an article's first sentence, repeated when a long article is split
	for _, line := range lines {
		rank, label, ok := heading(line, extra)
		if ok && rank > rankArticle && inArticle() {
			ok = false // (一) 1. (1) inside an article are its items, not sections
		}
		if ok {
			flush()
			lead = ""
			for len(stack) > 0 && stack[len(stack)-1].rank >= rank {
				stack = stack[:len(stack)-1]
			}
			stack = append(stack, open{rank, label})
			curPath = pathNow()
			body := strings.TrimSpace(strings.TrimPrefix(line, label))
			if body == "" || body == "。" {
				continue // a bare heading: its text lives in the path
			}
			// the heading line carries body text: keep the whole line, so the
			// sentence reads as written
		} else if curPath == nil {
			curPath = pathNow()
		}
		limit := maxPassageRunes
		if inArticle() {
			limit = maxArticleRunes
		}
		for _, s := range splitSentences(line) {
			n := len([]rune(s))
			if curRunes > 0 && curRunes+n > limit {
				flush()
				curPath = pathNow()
				if lead != "" {
					// the lead sentence ("…按照下列程序办理：") stays with
					// every part of its article's items
					cur, curRunes = []string{lead}, len([]rune(lead))
				}
			}
			if inArticle() && lead == "" {
				lead = s
			}
			cur = append(cur, s)
			curRunes += n
		}
		// a paragraph break is a good place to end a full passage; an
		// article's paragraphs (款) and items stay together up to its limit
		if curRunes > limit*2/3 && !inArticle() {
			flush()
			curPath = pathNow()
		}
	}
	flush()
	return mergeShortTails(out)
}

// minPassageRunes: a passage shorter than this ("责 任 人:**完成时间:5月25日",
// the lines that close a section) joins the passage before it under the
// same heading, so the date stays with the task it belongs to.
const minPassageRunes = 40

func mergeShortTails(ps []*Passage) []*Passage {
	out := ps[:0]
	for _, p := range ps {
		if n := len(out); n > 0 && len([]rune(p.Text)) < minPassageRunes && slices.Equal(out[n-1].Path, p.Path) {
			prev := out[n-1]
			prev.Sentences = append(prev.Sentences, p.Sentences...)
			prev.Text += p.Text
			continue
		}
		out = append(out, p)
	}
	return out
}

// splitSentences cuts a paragraph after 。！？；!? (keeping closing quotes
// and brackets with their sentence). The pieces concatenate to the input.
func splitSentences(p string) []string {
	var out []string
	rs := []rune(p)
	start := 0
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '。', '！', '？', '；', '!', '?', ';':
			j := i + 1
			for j < len(rs) && strings.ContainsRune("”’」』)）】", rs[j]) {
				j++
			}
			out = append(out, string(rs[start:j]))
			start = j
			i = j - 1
		}
	}
	if start < len(rs) {
		out = append(out, string(rs[start:]))
	}
	return out
}
