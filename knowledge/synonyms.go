package knowledge

import (
	"bufio"
	"fmt"
	"sort"
	"strings"
)

// synonyms holds curated groups of interchangeable words.
type synonyms struct {
	groups  [][]string       // normalised members
	byWord  map[string][]int // member → group indexes
	longest int              // longest member in runes
	counted bool             // addCountedKinds has run
}

// parseSynonyms reads one group per line, members separated by white space;
// '#' starts a comment. Groups from several files are merged.
func (s *synonyms) parse(name, text string) error {
	if s.byWord == nil {
		s.byWord = make(map[string][]int)
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	line := 0
	for sc.Scan() {
		line++
		l := sc.Text()
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f) == 1 {
			return fmt.Errorf("%s:%d: a synonym group needs at least two words", name, line)
		}
		g := len(s.groups)
		var members []string
		for _, w := range f {
			w = Normalize(w)
			members = append(members, w)
			s.byWord[w] = append(s.byWord[w], g)
			if n := len([]rune(w)); n > s.longest {
				s.longest = n
			}
		}
		s.groups = append(s.groups, members)
	}
	return sc.Err()
}

// addCountedKinds adds, for every numeral from 一 to 十, a group of the
// classifiers that count kinds of things: a person who asks for 四种 means
// what a document calls 四类 or 四项.
func (s *synonyms) addCountedKinds() {
	var b strings.Builder
	for _, n := range strings.Split("一 二 两 三 四 五 六 七 八 九 十", " ") {
		for _, c := range strings.Split("类 种 样 项 条", " ") {
			b.WriteString(n + c + " ")
		}
		b.WriteString("\n")
	}
	_ = s.parse("(built in)", b.String())
}

// alternatives returns every member of every group that w belongs to,
// without w itself, sorted for determinism.
func (s *synonyms) alternatives(w string) []string {
	seen := map[string]bool{w: true}
	var out []string
	for _, g := range s.byWord[w] {
		for _, m := range s.groups[g] {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	sort.Strings(out)
	return out
}
