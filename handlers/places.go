package handlers

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"policybot/knowledge"
)

// Places is the configured list of towns (乡镇) and their villages (村),
// against which people set where they belong.
type Places struct {
	towns    []string
	villages map[string][]string // town → villages
	byVil    map[string][]string // folded village → towns
}

// ParsePlaces reads {"马街镇": ["金家村", "上谷村"], ...}.
func ParsePlaces(data []byte) (*Places, error) {
	var m map[string][]string
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("places: want {\"镇名\": [\"村名\", ...]}: %w", err)
	}
	return NewPlaces(m)
}

// NewPlaces builds Places from town → villages.
func NewPlaces(m map[string][]string) (*Places, error) {
	p := &Places{villages: map[string][]string{}, byVil: map[string][]string{}}
	for town, vs := range m {
		town = strings.TrimSpace(town)
		if town == "" {
			return nil, fmt.Errorf("places: empty town name")
		}
		p.towns = append(p.towns, town)
		for _, v := range vs {
			v = strings.TrimSpace(v)
			if v == "" {
				return nil, fmt.Errorf("places: empty village name in %s", town)
			}
			p.villages[town] = append(p.villages[town], v)
			f := foldPlace(v)
			p.byVil[f] = append(p.byVil[f], town)
		}
		sort.Strings(p.villages[town])
	}
	sort.Strings(p.towns)
	return p, nil
}

// Empty reports whether no places are configured.
func (p *Places) Empty() bool { return p == nil || len(p.towns) == 0 }

// Count returns the number of towns and villages.
func (p *Places) Count() (towns, villages int) {
	if p == nil {
		return 0, 0
	}
	for _, vs := range p.villages {
		villages += len(vs)
	}
	return len(p.towns), villages
}

func foldPlace(s string) string {
	return strings.ReplaceAll(knowledge.Normalize(s), " ", "")
}

// PlaceMatch is the result of looking up what a person typed.
type PlaceMatch struct {
	Town, Village string
	// Choices are "村(镇)" candidates when the text is ambiguous or
	// unknown (close matches, best first); empty when nothing is close.
	Choices []string
	// TownOnly is set when the text names a town but no village.
	TownOnly bool
	// Ambiguous is set when Choices are villages of that very name in
	// several towns (not just names close to it).
	Ambiguous bool
}

// Find looks up "金家村", "马街镇金家村" or "马街镇 金家村". It returns a
// match with Village set when exactly one village fits.
func (p *Places) Find(text string) PlaceMatch {
	t := foldPlace(text)
	if p.Empty() || t == "" {
		return PlaceMatch{}
	}
	for _, town := range p.towns { // town-qualified
		ft := foldPlace(town)
		if !strings.HasPrefix(t, ft) {
			continue
		}
		rest := strings.TrimPrefix(t, ft)
		if rest == "" {
			return PlaceMatch{Town: town, TownOnly: true, Choices: label(town, p.villages[town])}
		}
		for _, v := range p.villages[town] {
			if foldPlace(v) == rest {
				return PlaceMatch{Town: town, Village: v}
			}
		}
	}
	if towns := p.byVil[t]; len(towns) == 1 {
		for _, v := range p.villages[towns[0]] {
			if foldPlace(v) == t {
				return PlaceMatch{Town: towns[0], Village: v}
			}
		}
	} else if len(towns) > 1 {
		var choices []string
		for _, town := range towns {
			choices = append(choices, town+t)
		}
		return PlaceMatch{Choices: choices, Ambiguous: true}
	}
	return PlaceMatch{Choices: p.close(t)}
}

func label(town string, vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = town + v
	}
	return out
}

// close returns up to 3 villages whose names are near t: sharing most
// characters, the usual result of a typo or a homophone.
func (p *Places) close(t string) []string {
	type cand struct {
		name  string
		score float64
	}
	var cs []cand
	tr := []rune(strings.TrimSuffix(t, "村"))
	for _, town := range p.towns {
		for _, v := range p.villages[town] {
			vr := []rune(strings.TrimSuffix(foldPlace(v), "村"))
			s := charOverlap(tr, vr)
			if s >= 0.5 {
				cs = append(cs, cand{town + v, s})
			}
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].score > cs[j].score })
	var out []string
	for i := 0; i < len(cs) && i < 3; i++ {
		out = append(out, cs[i].name)
	}
	return out
}

// charOverlap is the share of characters two names have in common, by
// position-free count over the longer name.
func charOverlap(a, b []rune) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	count := map[rune]int{}
	for _, r := range a {
		count[r]++
	}
	common := 0
	for _, r := range b {
		if count[r] > 0 {
			count[r]--
			common++
		}
	}
	return float64(common) / float64(max(len(a), len(b)))
}
