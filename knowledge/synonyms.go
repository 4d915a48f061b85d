package knowledge

import (
	"bufio"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// synonyms holds curated groups of interchangeable words.
type synonyms struct {
	groups  [][]string       // normalised members
	byWord  map[string][]int // member → group indexes
	longest int              // longest member in runes
	// set by freeze, once every group is in: what a member expands to, and
	// the first two characters of every member (most positions of a
	// question start none)
	expand  map[string]synExpansion
	starts2 map[string]bool
}

// synExpansion is what a typed synonym member adds to a question: its
// alternatives and the retrieval terms they bring, each at its weight.
type synExpansion struct {
	alts  []string
	terms map[string]float64
	// forms is the member then its alternatives (a unit's forms, shared:
	// never modified); own is the member's own terms at their weights
	forms []string
	own   []weighted
}

// freeze computes every member's expansion; the groups must not change
// after it (a Base is immutable).
func (s *synonyms) freeze() {
	s.expand = make(map[string]synExpansion, len(s.byWord))
	s.starts2 = map[string]bool{}
	for w := range s.byWord {
		e := synExpansion{alts: s.alternatives(w), terms: map[string]float64{}}
		for _, a := range e.alts {
			for t := range termCounts(a) {
				e.terms[t] = max(e.terms[t], weightSynonym*termWeight(t))
			}
		}
		e.forms = append([]string{w}, e.alts...)
		for t := range termCounts(w) {
			e.own = append(e.own, weighted{t, termWeight(t)})
		}
		s.expand[w] = e
		if rs := []rune(w); len(rs) >= 2 {
			s.starts2[string(rs[:2])] = true
		}
	}
}

// parseSynonyms reads one group per line, members separated by white space;
// '#' starts a comment. Groups from several files are merged.
func (s *synonyms) parse(name, text string) error {
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
		s.add(f)
	}
	return sc.Err()
}

// add adds one group of words (normalised here).
func (s *synonyms) add(words []string) {
	if s.byWord == nil {
		s.byWord = make(map[string][]int)
	}
	g := len(s.groups)
	members := make([]string, 0, len(words))
	for _, w := range words {
		w = Normalize(w)
		members = append(members, w)
		s.byWord[w] = append(s.byWord[w], g)
		s.longest = max(s.longest, utf8.RuneCountInString(w))
	}
	s.groups = append(s.groups, members)
}

// addCountedKinds adds, for every numeral from 一 to 十, a group of the
// classifiers that count kinds of things: a person who asks for 四种 means
// what a document calls 四类 or 四项.
func (s *synonyms) addCountedKinds() {
	for _, n := range "一二两三四五六七八九十" {
		var group []string
		for _, c := range "类种样项条" {
			group = append(group, string(n)+string(c))
		}
		s.add(group)
	}
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
