package quiz

import (
	"math/rand/v2"
	"time"
)

// PickRound chooses n question ids for a round: first questions the
// person has not yet answered correctly (done), in random order; only
// when fewer than n remain are correctly answered ones used to fill up.
// Within each, questions for audience (AudienceHousehold for villagers)
// come first, then those for everyone, then the others.
func PickRound(b *Bank, done map[string]bool, n int, rnd *rand.Rand, audience ...string) []string {
	want := ""
	if len(audience) > 0 {
		want = audience[0]
	}
	rank := func(q Question) int {
		switch q.Audience {
		case want:
			return 0
		case "":
			return 1
		}
		return 2
	}
	var groups [6][]string // fresh by rank, then old by rank
	for _, q := range b.qs {
		g := rank(q)
		if done[q.ID] {
			g += 3
		}
		groups[g] = append(groups[g], q.ID)
	}
	var out []string
	for _, g := range groups {
		rnd.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
		out = append(out, g...)
	}
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// DailyID is the question of the day (a date in the quiz's time zone):
// the same for everyone, and no question comes back before every other
// one has had its day.
func DailyID(b *Bank, day time.Time) string {
	if len(b.qs) == 0 {
		return ""
	}
	n := int64(len(b.qs))
	d := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400
	stride := int64(37)
	for gcd(stride, n) != 1 {
		stride += 2
	}
	return b.qs[((d%n)*stride)%n].ID
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
