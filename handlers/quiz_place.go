package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"policybot/quiz"
)

// placeChoiceKey keeps the numbered places offered to a person, so a
// reply with a number picks one.
func placeChoiceKey(user string) string { return "placechoice:{" + user + "}" }

// isChoiceNumber reports whether text is a bare number from 1 to 9 (full
// width folded): a pick from numbered choices.
func isChoiceNumber(text string) bool {
	t := FoldCommand(text)
	return len(t) == 1 && t >= "1" && t <= "9"
}

// PickPlaceIntent takes a number picked from the places offered by
// 设置; with nothing offered the number goes to fallback.
func (q *Quiz) PickPlaceIntent(fallback Intent) Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		b, err := q.Store.GetSession(ctx, placeChoiceKey(m.User))
		if err != nil {
			return fallback.Handle(ctx, m)
		}
		var choices []string
		n := int(FoldCommand(m.Text)[0] - '0')
		if json.Unmarshal(b, &choices) != nil || n > len(choices) {
			return fallback.Handle(ctx, m)
		}
		pm := q.Places.Find(choices[n-1])
		if pm.Village == "" {
			return fallback.Handle(ctx, m)
		}
		q.Store.DeleteSession(ctx, placeChoiceKey(m.User))
		return q.setPlace(ctx, m.User, pm)
	})
}

// setPlace records the person's village for the leaderboards.
func (q *Quiz) setPlace(ctx context.Context, user string, pm PlaceMatch) (Response, error) {
	u, err := q.User(ctx, user)
	if err != nil {
		return Response{}, err
	}
	u.Town, u.Village = pm.Town, pm.Village
	if err := q.PutUser(ctx, u); err != nil {
		return Response{}, err
	}
	return Response{Text: fmt.Sprintf(TextPlaceSet, pm.Town, pm.Village), Answered: true}, nil
}

// SetIntent handles "设置 金家村" (place) and "设置 姓名 张三" (name).
func (q *Quiz) SetIntent() Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		arg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(FoldCommand(m.Text)), "设置"))
		arg = strings.TrimLeft(arg, ": ")
		if rest, ok := strings.CutPrefix(arg, "姓名"); ok {
			name := strings.TrimSpace(strings.TrimLeft(rest, ": "))
			if name == "" || len([]rune(name)) > 10 {
				return Response{Text: TextPlaceHow, Answered: true}, nil
			}
			u, err := q.User(ctx, m.User)
			if err != nil {
				return Response{}, err
			}
			u.Name = name
			if err := q.PutUser(ctx, u); err != nil {
				return Response{}, err
			}
			return Response{Text: fmt.Sprintf(TextNameSet, quiz.MaskName(name, m.User)), Answered: true}, nil
		}
		if q.Places.Empty() {
			return Response{Text: TextPlacesNone, Answered: true}, nil
		}
		if arg == "" {
			return Response{Text: TextPlaceHow, Answered: true}, nil
		}
		pm := q.Places.Find(arg)
		switch {
		case pm.Village != "":
			return q.setPlace(ctx, m.User, pm)
		case pm.TownOnly:
			return Response{Text: fmt.Sprintf(TextPlaceTownOnly, pm.Town, strings.Join(pm.Choices, "、")), Answered: true}, nil
		case len(pm.Choices) > 0:
			// an ambiguous or mistyped name: numbered choices, pick by number
			choices := pm.Choices
			if len(choices) > 9 {
				choices = choices[:9]
			}
			b, _ := json.Marshal(choices)
			if err := q.Store.PutSession(ctx, placeChoiceKey(m.User), b, 10*time.Minute); err != nil {
				return Response{Text: fmt.Sprintf(TextPlaceSuggest, arg, strings.Join(choices, "、")), Answered: true}, nil
			}
			var lines strings.Builder
			for i, c := range choices {
				fmt.Fprintf(&lines, "\n%d. %s", i+1, c)
			}
			intro := fmt.Sprintf(TextPlaceAmbiguous, len(choices), arg)
			if !pm.Ambiguous {
				intro = fmt.Sprintf(TextPlaceMaybe, arg)
			}
			return Response{Text: intro + lines.String() + "\n" + TextPlacePickHow, Answered: true}, nil
		}
		return Response{Text: fmt.Sprintf(TextPlaceUnknown, arg), Answered: true}, nil
	})
}
