package quiz

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// ErrNotAnswer: the text is not an attempt at an answer (it is a question
// or a remark), so it should go elsewhere, e.g. to the knowledge base.
var ErrNotAnswer = errors.New("not an answer")

// ErrSkip: the person does not know (不知道, 不会, 跳过): the answer is
// shown and the round moves on.
var ErrSkip = errors.New("skipped")

// skipWords say "I don't know" in the words people use.
var skipWords = map[string]bool{"不知道": true, "不晓得": true, "不清楚": true, "不会": true, "不懂": true, "跳过": true, "下一题": true, "不知": true, "忘了": true}

// IsSkip reports whether text says "I don't know" (不知道, 跳过 …).
func IsSkip(text string) bool { return skipWords[fold(text)] }

// ErrBadAnswer wraps an attempt that does not fit the question: a letter
// beyond the options, several letters for single choice, one for multiple
// choice, a letter for true/false.
var ErrBadAnswer = errors.New("answer does not fit the question")

// judge words, after folding; the value is True or False.
var judgeWords = map[string]string{
	"对": True, "对的": True, "正确": True, "是": True, "是的": True, "√": True, "✓": True, "✔": True, "T": True, "TRUE": True, "Y": True, "YES": True, "V": True,
	"错": False, "错的": False, "错误": False, "不对": False, "否": False, "不是": False, "×": False, "X": False, "✗": False, "✘": False, "F": False, "FALSE": False, "N": False, "NO": False,
}

// answer prefixes people type before the letters.
var answerPrefixes = []string{"我选择", "我选", "答案是", "答案", "选择", "选", "答"}

// fold makes an answer comparable: NFKC (full-width Ａ and ｃ become A
// and C), upper case, surrounding white space and trailing punctuation
// removed, a leading "我选"/"答案" dropped.
func fold(s string) string {
	s = strings.ToUpper(norm.NFKC.String(strings.TrimSpace(s)))
	s = strings.TrimRightFunc(s, func(r rune) bool { return unicode.IsPunct(r) && r != '√' || unicode.IsSpace(r) })
	for _, p := range answerPrefixes {
		if strings.HasPrefix(s, p) {
			s = strings.TrimLeftFunc(s[len(p):], func(r rune) bool { return unicode.IsSpace(r) || r == ':' || r == '：' })
			break
		}
	}
	return s
}

// LooksLikeAnswer reports whether text is an attempt at answering any
// question: option letters (with separators) or a true/false word. The
// router uses it to send such texts to the quiz.
func LooksLikeAnswer(text string) bool {
	s := fold(text)
	if s == "" || len([]rune(s)) > 16 {
		return false
	}
	if _, ok := judgeWords[s]; ok {
		return true
	}
	if skipWords[s] {
		return true
	}
	_, err := parseLetters(s, MaxOptions)
	return err == nil || errors.Is(err, ErrBadAnswer)
}

// ParseAnswer reads a person's answer to q: the canonical answer ("B",
// "AC", 对, 错), ErrNotAnswer when text is not an answer at all, or an
// error wrapping ErrBadAnswer when it is one that does not fit q.
// A–D in any case or width, "a c", "A,C", "AC", "选A"; 对/错/√/×/是/否.
// A true/false question also takes A (对) and B (错), as it is shown.
func ParseAnswer(q Question, text string) (string, error) {
	s := fold(text)
	if s == "" {
		return "", ErrNotAnswer
	}
	if skipWords[s] {
		return "", ErrSkip
	}
	if q.Kind == Judge {
		if v, ok := judgeWords[s]; ok {
			return v, nil
		}
		switch s {
		case "A":
			return True, nil
		case "B":
			return False, nil
		}
		if LooksLikeAnswer(text) {
			return "", fmt.Errorf("%w: a true/false question is answered 对 or 错", ErrBadAnswer)
		}
		return "", ErrNotAnswer
	}
	if _, ok := judgeWords[s]; ok && strings.IndexFunc(s, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return "", fmt.Errorf("%w: choose a letter", ErrBadAnswer) // 对/错 to a choice question
	}
	letters, err := parseLetters(s, len(q.Options))
	if err != nil {
		return "", err
	}
	if q.Kind == Single && len(letters) != 1 {
		return "", fmt.Errorf("%w: single choice takes one letter", ErrBadAnswer)
	}
	// one letter to a multiple-choice question is an answer, and a wrong
	// one (a multiple-choice question has two or more right options)
	return letters, nil
}

// parseLetters reads option letters separated by nothing, spaces, commas,
// 、 or +, and returns them deduplicated in order ("CA" → "AC").
func parseLetters(s string, n int) (string, error) {
	seen := map[rune]bool{}
	beyond := false
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			if r >= 'A'+rune(n) {
				if r > 'A'+MaxOptions-1 {
					return "", ErrNotAnswer
				}
				beyond = true
			}
			seen[r] = true
		case r >= 'a' && r <= 'z':
			return "", ErrNotAnswer // fold upper-cased; only words get here
		case unicode.IsSpace(r), r == ',', r == '、', r == '+', r == '/', r == '.', r == ';', r == '&':
		default:
			return "", ErrNotAnswer
		}
	}
	if len(seen) == 0 {
		return "", ErrNotAnswer
	}
	if beyond {
		return "", fmt.Errorf("%w: there are only options A to %c", ErrBadAnswer, 'A'+n-1)
	}
	out := make([]rune, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return string(out), nil
}

// Correct reports whether the canonical answer is right.
func (q Question) Correct(answer string) bool { return answer == q.Answer }
