package quiz

import (
	"math/rand/v2"
	"time"
)

// PickRound chooses n question ids for a round: first questions the
// person has not yet answered correctly (done), in random order; only
// when fewer than n remain are correctly answered ones used to fill up.
func PickRound(b *Bank, done map[string]bool, n int, rnd *rand.Rand) []string {
	var fresh, old []string
	for _, q := range b.qs {
		if done[q.ID] {
			old = append(old, q.ID)
		} else {
			fresh = append(fresh, q.ID)
		}
	}
	rnd.Shuffle(len(fresh), func(i, j int) { fresh[i], fresh[j] = fresh[j], fresh[i] })
	rnd.Shuffle(len(old), func(i, j int) { old[i], old[j] = old[j], old[i] })
	out := append(fresh, old...)
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
