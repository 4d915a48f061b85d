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
