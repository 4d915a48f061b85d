package quiz

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"time"
	"unicode/utf8"
)

// AnswerRecord is one answered question, as kept in the store: who (the
// platform id), where they belonged and in which role when they answered,
// and whether it was right.
type AnswerRecord struct {
	User    string    `json:"u"`
	Name    string    `json:"n,omitempty"`
	QID     string    `json:"q"`
	Topic   string    `json:"t"`
	Correct bool      `json:"c"`
	At      time.Time `json:"at"`
	Village string    `json:"v,omitempty"`
	Town    string    `json:"tw,omitempty"`
	Role    string    `json:"r,omitempty"`
	Daily   bool      `json:"d,omitempty"`
}

// Row is one line of figures: participants (distinct people), answers,
// correct answers and the correct rate (知晓率, 0–1).
type Row struct {
	Key          string
	Label        string // e.g. the question's stem
	Participants int
	Answers      int
	Correct      int
	Rate         float64
}

// Leader is one place on a weekly village leaderboard.
type Leader struct {
	Week    string
	Town    string
	Village string
	Rank    int
	Name    string // masked: 张*
	Score   int    // correct answers that week
}

// Report holds the figures for a period.
type Report struct {
	From, To   time.Time // To is exclusive
	Total      Row
	ByQuestion []Row
	ByTopic    []Row
	ByVillage  []Row // key "town/village"
	ByTown     []Row
	ByRole     []Row
	ByWeek     []Row // ISO week in the report's zone, 2026-W47
	Leaders    []Leader
}

// Unset labels a record without a place or role.
const Unset = "未设置"

// DefaultRole is the role of a person the roster does not know.
const DefaultRole = "群众"

// LeadersPerVillage is how many people a weekly leaderboard lists.
const LeadersPerVillage = 10

type acc struct {
	users   map[string]struct{}
	answers int
	correct int
}

func (a *acc) add(r *AnswerRecord) {
	if a.users == nil {
		a.users = map[string]struct{}{}
	}
	a.users[r.User] = struct{}{}
	a.answers++
	if r.Correct {
		a.correct++
	}
}

func (a *acc) row(key string) Row {
	r := Row{Key: key, Participants: len(a.users), Answers: a.answers, Correct: a.correct}
	if a.answers > 0 {
		r.Rate = float64(a.correct) / float64(a.answers)
	}
	return r
}

type group map[string]*acc

func (g group) add(key string, r *AnswerRecord) {
	a := g[key]
	if a == nil {
		a = &acc{}
		g[key] = a
	}
	a.add(r)
}

func (g group) rows() []Row {
	out := make([]Row, 0, len(g))
	for k, a := range g {
		out = append(out, a.row(k))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// ISOWeek names the week of t: 2026-W47.
func ISOWeek(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}

// BuildReport computes the figures of the answers with From <= At < To
// (in loc, which decides weeks); village, when not empty, keeps only that
// village's answers. bank, when given, labels questions with their stem.
func BuildReport(answers []AnswerRecord, from, to time.Time, village string, loc *time.Location, bank *Bank) Report {
	rep := Report{From: from, To: to}
	var total acc
	byQ, byTopic, byVillage, byTown, byRole, byWeek := group{}, group{}, group{}, group{}, group{}, group{}
	type boardKey struct{ week, town, village string }
	boards := map[boardKey]map[string]*Leader{}
	for i := range answers {
		r := &answers[i]
		if r.At.Before(from) || !r.At.Before(to) || village != "" && r.Village != village {
			continue
		}
		town, vil, role := orUnset(r.Town), orUnset(r.Village), r.Role
		if role == "" {
			role = DefaultRole
		}
		week := ISOWeek(r.At.In(loc))
		total.add(r)
		byQ.add(r.QID, r)
		byTopic.add(orUnset(r.Topic), r)
		byVillage.add(town+"/"+vil, r)
		byTown.add(town, r)
		byRole.add(role, r)
		byWeek.add(week, r)
		if r.Village == "" {
			continue
		}
		k := boardKey{week, town, vil}
		b := boards[k]
		if b == nil {
			b = map[string]*Leader{}
			boards[k] = b
		}
		l := b[r.User]
		if l == nil {
			l = &Leader{Week: week, Town: town, Village: vil, Name: MaskName(r.Name, r.User)}
			b[r.User] = l
		}
		if r.Correct {
			l.Score++
		}
	}
	rep.Total = total.row("合计")
	rep.ByQuestion, rep.ByTopic, rep.ByVillage = byQ.rows(), byTopic.rows(), byVillage.rows()
	rep.ByTown, rep.ByRole, rep.ByWeek = byTown.rows(), byRole.rows(), byWeek.rows()
	if bank != nil {
		for i := range rep.ByQuestion {
			if q, ok := bank.Get(rep.ByQuestion[i].Key); ok {
				rep.ByQuestion[i].Label = q.Stem
			}
		}
	}
	keys := make([]boardKey, 0, len(boards))
	for k := range boards {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.week != b.week {
			return a.week < b.week
		}
		if a.town != b.town {
			return a.town < b.town
		}
		return a.village < b.village
	})
	for _, k := range keys {
		ls := make([]*Leader, 0, len(boards[k]))
		for _, l := range boards[k] {
			ls = append(ls, l)
		}
		sort.Slice(ls, func(i, j int) bool {
			if ls[i].Score != ls[j].Score {
				return ls[i].Score > ls[j].Score
			}
			return ls[i].Name < ls[j].Name
		})
		for i, l := range ls {
			if i == LeadersPerVillage {
				break
			}
			l.Rank = i + 1
			rep.Leaders = append(rep.Leaders, *l)
		}
	}
	return rep
}

func orUnset(s string) string {
	if s == "" {
		return Unset
	}
	return s
}

// MaskName shows a name as its first character and "*" (张三 → 张*). A
// person without a name is "用户" and four characters derived from their
// id, stable and not reversible.
func MaskName(name, user string) string {
	if name != "" {
		r, _ := utf8.DecodeRuneInString(name)
		return string(r) + "*"
	}
	h := sha256.Sum256([]byte(user))
	return "用户" + hex.EncodeToString(h[:2])
}
