package knowledge

import (
	"regexp"
	"strconv"
	"strings"
)

// Evidence is a passage handed to a writer (a language model): its text
// and the source line answers cite it with.
type Evidence struct {
	File     string
	Title    string
	Section  string
	Citation string // 《title》(文号) › section, as answers show it
	Text     string
}

// maxEvidence is how many passages an answer hands on as Evidence.
const maxEvidence = 5

// evidence is the material a model may write its answer from: the best
// passages of the answer's own retrieval (hits), best first, at most
// maxEvidence.
func (b *Base) evidence(hits []hit) []Evidence {
	var out []Evidence
	for _, h := range hits[:min(len(hits), maxEvidence)] {
		p := b.passages[h.doc]
		out = append(out, Evidence{File: p.Doc.File, Title: p.Doc.Title, Section: p.Section(),
			Citation: p.cite, Text: p.Text})
	}
	return out
}

// reFigure finds the figures a grounded answer must take from its
// evidence: Arabic or Chinese numerals, with decimals.
var reFigure = regexp.MustCompile(`\d+(?:\.\d+)?|[零一二两三四五六七八九十百千万亿]+`)

// figures lists the figures in text, as canonical decimal strings:
// "20", "2000", "0.5". A lone 一 or 两 (a word as often as a number) is
// left out unless a unit follows it.
func figures(text string) []string {
	var out []string
	for _, loc := range reFigure.FindAllStringIndex(text, -1) {
		s := text[loc[0]:loc[1]]
		if s[0] >= '0' && s[0] <= '9' {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				out = append(out, strconv.FormatFloat(f, 'f', -1, 64))
			}
			continue
		}
		if s == "一" || s == "两" || s == "二" || s == "十" || s == "万" || s == "千" || s == "百" || s == "亿" || s == "零" {
			rest := text[loc[1]:]
			if !reUnitAfter.MatchString(rest) {
				continue
			}
		}
		if v, ok := chineseNumber(s); ok {
			out = append(out, strconv.Itoa(v))
		}
	}
	return out
}

var reUnitAfter = regexp.MustCompile(`^\s*(?:天|日|个月|月|年|户|人|元|万元|岁|次|名|项|条|%|％|倍|小时|周|亩)`)

// reTitle finds document titles the way answers quote them.
var reTitle = regexp.MustCompile(`《([^》]{2,80})》`)

// Ungrounded returns the problems of a written answer against the
// evidence it was written from: every figure (number, date part, amount,
// percentage; Arabic or Chinese numerals) must occur among the evidence's
// figures, and every 《title》 it names must be one of the evidence's
// documents. An empty result means the answer may be shown.
func Ungrounded(answer string, evidence []Evidence) []string {
	have := map[string]bool{}
	titles := map[string]bool{}
	for _, e := range evidence {
		for _, f := range figures(Normalize(e.Text) + " " + e.Text + " " + e.Citation) {
			have[f] = true
		}
		titles[Normalize(e.Title)] = true
	}
	var bad []string
	seen := map[string]bool{}
	for _, f := range figures(answer) {
		if !have[f] && !seen[f] {
			seen[f] = true
			bad = append(bad, "figure "+f+" is not in the sources")
		}
	}
	for _, m := range reTitle.FindAllStringSubmatch(answer, -1) {
		if !titles[Normalize(m[1])] {
			bad = append(bad, "names 《"+m[1]+"》, which was not given")
		}
	}
	return bad
}

// FiguresMissing returns the figures of text (amounts, days, dates,
// percentages; Arabic or Chinese numerals, read as values) that do not
// occur in the source file's text, as text writes them; ok is false when
// the base has no such file. A curated answer obeys the rule extracted
// ones do: it states no figure its source lacks.
func (b *Base) FiguresMissing(file, text string) (missing []string, ok bool) {
	src, ok := b.files[file]
	if !ok {
		return nil, false
	}
	have := map[string]bool{}
	for _, f := range figures(Normalize(src) + " " + src) {
		have[f] = true
	}
	seen := map[string]bool{}
	for _, loc := range reFigure.FindAllStringIndex(text, -1) {
		written := text[loc[0]:loc[1]] + unitAfter(text[loc[1]:])
		for _, f := range figures(written) { // this figure alone, with its unit
			if !have[f] && !seen[written] {
				seen[written] = true
				missing = append(missing, written)
			}
		}
	}
	return missing, true
}

// unitAfter is the unit written right after a figure ("元" in 50元).
func unitAfter(rest string) string {
	return strings.TrimSpace(reUnitAfter.FindString(rest))
}
