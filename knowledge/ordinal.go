package knowledge

import (
	"regexp"
	"slices"
	"strings"
)

// reOrdinal matches a sentence that opens an item of an ordinal list:
// 一是…, or an item of an article or notice, (一)… / （一）….
var reOrdinal = regexp.MustCompile(`^\s*[“"]?(?:([一二三四五六七八九十])是|[(（]([一二三四五六七八九十]{1,3})[)）])`)

// ordinalRun returns the sentences from p's "一是" (or "(一)") to the last
// item of the run that follows (二是, 三是, … in order), read on into the
// next passages under the same heading, or nil when there is no run of two
// items or more. A lead sentence just before the first item ("…包括：")
// opens the run.
func (b *Base) ordinalRun(p *Passage) []candidate {
	var run []candidate
	lastItem, next := -1, 1
	lead := ""
	for q := p; q != nil; q = b.nextInSection(q) {
		for i, sent := range q.Sentences {
			if next > 1 && sent == lead {
				continue // a long article's lead, repeated in its next part
			}
			m := reOrdinal.FindStringSubmatch(sent)
			if m != nil {
				num := m[1] + m[2]
				switch n, _ := chineseNumber(num); {
				case n == 1 && next == 1:
					next = 2
					if i > 0 && strings.HasSuffix(strings.TrimSpace(q.Sentences[i-1]), "：") {
						lead = q.Sentences[i-1]
						run = append(run, candidate{p: q, i: i - 1})
					}
				case next > 1 && n == next:
					next++
				default:
					m = nil
				}
			}
			if next == 1 {
				continue // the run has not started
			}
			run = append(run, candidate{p: q, i: i})
			if m != nil {
				lastItem = len(run) - 1
			}
		}
		if q != p && lastItem < len(run)-1 {
			break // this passage added no item
		}
	}
	if next < 3 {
		return nil
	}
	return run[:lastItem+1]
}

// nextInSection is the passage after p when it has the same heading path.
func (b *Base) nextInSection(p *Passage) *Passage {
	if p.ID+1 >= len(b.passages) {
		return nil
	}
	if n := b.passages[p.ID+1]; n.Doc == p.Doc && slices.Equal(n.Path, p.Path) {
		return n
	}
	return nil
}
