package knowledge

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// The vocabulary of questions, kept as data (knowledge/vocab/*.txt,
// embedded): the stop words, the cues of what a question asks for, and the
// units documents answer in. A --kb folder (or the console's uploads)
// extends it with files named *stopwords.txt, *cues.txt and *units.txt, so
// an official adding documents of another field can teach the base how
// people ask about them without a new build.

//go:embed vocab
var vocabFiles embed.FS

// cueSections are the sections of a cues file, each a kind of answer asked
// for (and, for money and people, the nouns that make 多少 ask for money or
// for a number of people; question, the interrogatives that make a clause
// ask for something rather than whether).
var cueSections = []string{"phone", "who", "date", "list", "how", "freq", "number", "money", "people", "question"}

// vocabFile is one vocabulary file: its name (which says its kind) and text.
type vocabFile struct{ name, text string }

// IsVocabularyFile reports whether a knowledge file is vocabulary
// (*stopwords.txt, *cues.txt, *units.txt) rather than a document.
func IsVocabularyFile(name string) bool { return isVocabFile(strings.ToLower(name)) }

// CheckVocabularyFile reports what is wrong with a vocabulary file, as
// Load would find it (the line and what to write instead); nil when it
// compiles with the embedded vocabulary.
func CheckVocabularyFile(name string, data []byte) error {
	if !utf8.Valid(data) {
		return fmt.Errorf("%s: 词表要存成 UTF-8 编码的文字", name)
	}
	_, err := withExtensions([]vocabFile{{name: name, text: string(data)}})
	return err
}

// isVocabFile reports whether a lower-case file name is a vocabulary file.
func isVocabFile(lower string) bool {
	for _, kind := range []string{"stopwords.txt", "cues.txt", "units.txt"} {
		if strings.HasSuffix(lower, kind) {
			return true
		}
	}
	return false
}

// vocab is a compiled vocabulary. It is immutable once built.
type vocab struct {
	stop     map[string]bool
	cues     map[string]cueMatcher // by section
	cueWords map[string][]string   // the words of each section, in order
	// units maps the unit a question asks for to the words that answer it
	units   map[string][]string
	unitRes map[string]*regexp.Regexp
	// unitOrder fixes a bit for each asked unit (at most 64)
	unitOrder   []string
	unitBitsFor map[string]uint64 // a unit word after a numeral → the units it satisfies
	numeralUnit *regexp.Regexp    // every numeral + unit word in a text
	numberUnit  *regexp.Regexp    // the unit right after 多少/几
	yearBit     uint64
	timesBit    uint64
}

// defaultVocab is the embedded vocabulary, compiled once.
var defaultVocab = func() *vocab {
	files, err := embeddedVocabFiles()
	if err != nil {
		panic(err)
	}
	v, err := newVocab(files)
	if err != nil {
		panic(fmt.Sprintf("knowledge: embedded vocabulary: %v", err))
	}
	return v
}()

func embeddedVocabFiles() ([]vocabFile, error) {
	var out []vocabFile
	for _, name := range []string{"stopwords.txt", "cues.txt", "units.txt"} {
		b, err := fs.ReadFile(vocabFiles, "vocab/"+name)
		if err != nil {
			return nil, err
		}
		out = append(out, vocabFile{name, string(b)})
	}
	return out, nil
}

// withExtensions is the embedded vocabulary extended by files; with none,
// the shared default.
func withExtensions(extra []vocabFile) (*vocab, error) {
	if len(extra) == 0 {
		return defaultVocab, nil
	}
	files, err := embeddedVocabFiles()
	if err != nil {
		return nil, err
	}
	return newVocab(append(files, extra...))
}

// vocabLines yields the non-comment lines of a vocabulary file with their
// numbers.
func vocabLines(text string, each func(n int, line string) error) error {
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := each(i+1, line); err != nil {
			return err
		}
	}
	return nil
}

// newVocab compiles files in order; later files add to earlier ones.
func newVocab(files []vocabFile) (*vocab, error) {
	v := &vocab{stop: map[string]bool{}, cues: map[string]cueMatcher{}, units: map[string][]string{}}
	cues := map[string][]string{}
	for _, f := range files {
		lower := strings.ToLower(f.name)
		var err error
		switch {
		case strings.HasSuffix(lower, "stopwords.txt"):
			err = vocabLines(f.text, func(_ int, line string) error {
				for _, w := range strings.Fields(line) {
					v.stop[Normalize(w)] = true
				}
				return nil
			})
		case strings.HasSuffix(lower, "cues.txt"):
			section := ""
			err = vocabLines(f.text, func(n int, line string) error {
				if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
					section = strings.TrimSpace(line[1 : len(line)-1])
					for _, s := range cueSections {
						if s == section {
							return nil
						}
					}
					return fmt.Errorf("第 %d 行：没有 [%s] 这一段（可用：%s）", n, section, strings.Join(cueSections, " "))
				}
				if section == "" {
					return fmt.Errorf("第 %d 行：线索前要先写段名，如 [date]", n)
				}
				for _, w := range strings.Fields(line) {
					if _, err := regexp.Compile(w); err != nil {
						return fmt.Errorf("第 %d 行：%q 不是有效的写法：%v", n, w, err)
					}
					cues[section] = append(cues[section], w)
				}
				return nil
			})
		case strings.HasSuffix(lower, "units.txt"):
			err = vocabLines(f.text, func(n int, line string) error {
				asked, words, ok := strings.Cut(line, "=")
				asked = strings.TrimSpace(asked)
				if !ok || asked == "" || len(strings.Fields(words)) == 0 {
					return fmt.Errorf("第 %d 行：要写成“天 = 天 日 个工作日”", n)
				}
				for _, w := range strings.Fields(words) {
					if !containsString(v.units[asked], w) {
						v.units[asked] = append(v.units[asked], w)
					}
				}
				return nil
			})
		default:
			err = fmt.Errorf("not a vocabulary file")
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	for _, s := range cueSections {
		if len(cues[s]) == 0 {
			return nil, fmt.Errorf("cues: section [%s] is empty", s)
		}
		v.cues[s] = newCueMatcher(cues[s])
	}
	v.cueWords = cues
	if err := v.compileUnits(); err != nil {
		return nil, err
	}
	return v, nil
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// compileUnits builds what the units file implies: a pattern per asked
// unit, the bits of facts, the numeral + unit finder and the units a
// question may name after 多少 or 几.
func (v *vocab) compileUnits() error {
	if len(v.units) > 64 {
		return fmt.Errorf("units: %d units asked for; at most 64", len(v.units))
	}
	for _, need := range []string{"年", "次", "钱", "块", "面积", "距离", "长度", "重量"} {
		if len(v.units[need]) == 0 {
			return fmt.Errorf("units: the unit %s is needed", need)
		}
	}
	v.unitRes = map[string]*regexp.Regexp{}
	for u, alts := range v.units {
		v.unitRes[u] = regexp.MustCompile(numeral + `\s*(?:` + strings.Join(quoteAll(alts), "|") + `)`)
	}
	// 几年 asks for a number of years; "2019年" is a date, not an answer
	v.unitRes["年"] = regexp.MustCompile(`(?:^|[^\d])` + yearsNumeral + `\s*(?:` + strings.Join(quoteAll(v.units["年"]), "|") + `)`)
	// 几次 is not answered by 一次性 ("at once")
	v.unitRes["次"] = regexp.MustCompile(numeral + `\s*(?:` + strings.Join(quoteAll(v.units["次"]), "|") + `)(?:[^性]|$)`)
	v.unitOrder = v.unitOrder[:0]
	for u := range v.units {
		v.unitOrder = append(v.unitOrder, u)
	}
	sort.Strings(v.unitOrder)
	v.yearBit = uint64(1) << sort.SearchStrings(v.unitOrder, "年")
	v.timesBit = uint64(1) << sort.SearchStrings(v.unitOrder, "次")
	var words []string
	seen := map[string]bool{}
	for _, u := range v.unitOrder {
		for _, w := range v.units[u] {
			if !seen[w] {
				seen[w] = true
				words = append(words, w)
			}
		}
	}
	v.unitBitsFor = map[string]uint64{}
	for _, w := range words {
		for i, u := range v.unitOrder {
			for _, a := range v.units[u] {
				// 万 and 千 are also numerals, so "10万元" counts as a figure
				// in 元 and "5千米" in 米; "1000平方米" is no distance
				if pre, ok := strings.CutSuffix(w, a); ok && strings.Trim(pre, "一二两三四五六七八九十百千万") == "" {
					v.unitBitsFor[w] |= 1 << i
				}
			}
		}
	}
	// longest first so 万元 wins over 元
	sort.SliceStable(words, func(i, j int) bool { return len(words[i]) > len(words[j]) })
	v.numeralUnit = regexp.MustCompile(numeral + `\s*(` + strings.Join(quoteAll(words), "|") + `)`)
	// 多少/几 + a unit asked for; 类, 种, 样 (which ones) and 万 (a figure
	// of any unit) are read by wantOf
	asked := append([]string(nil), v.unitOrder...)
	asked = append(asked, "类", "种", "样", "万")
	sort.SliceStable(asked, func(i, j int) bool { return len(asked[i]) > len(asked[j]) })
	v.numberUnit = regexp.MustCompile(`(?:多少|几)(` + strings.Join(quoteAll(asked), "|") + `)`)
	return nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = regexp.QuoteMeta(s)
	}
	return out
}

// cueMatcher finds cue words in a question, as a regular expression of
// the words joined by | would (leftmost match first, then the first word
// listed that matches there).
type cueMatcher interface {
	MatchString(s string) bool
	FindAllStringIndex(s string, n int) [][]int
}

// newCueMatcher is a literal matcher when every cue is a plain word (most
// are: a question is read against a dozen such lists, so this is on every
// question's path), else the regular expression.
func newCueMatcher(cues []string) cueMatcher {
	for _, c := range cues {
		if regexp.QuoteMeta(c) != c {
			return regexp.MustCompile(strings.Join(cues, "|"))
		}
	}
	return newLiteralCues(cues)
}

// literalCues are plain cue words, in the order listed, indexed by their
// first character so that each position of a question is tried against
// the few words that can start there.
type literalCues struct {
	byFirst map[rune][]string // in the order listed
}

func newLiteralCues(words []string) *literalCues {
	l := &literalCues{byFirst: map[rune][]string{}}
	for _, w := range words {
		r, _ := utf8.DecodeRuneInString(w)
		l.byFirst[r] = append(l.byFirst[r], w)
	}
	return l
}

// at returns the length of the first listed word that s holds at i (0 for
// none) and the size of the character at i.
func (l *literalCues) at(s string, i int) (int, int) {
	r, size := utf8.DecodeRuneInString(s[i:])
	for _, w := range l.byFirst[r] {
		if strings.HasPrefix(s[i:], w) {
			return len(w), size
		}
	}
	return 0, size
}

func (l *literalCues) MatchString(s string) bool {
	for i := 0; i < len(s); {
		m, size := l.at(s, i)
		if m > 0 {
			return true
		}
		i += size
	}
	return false
}

func (l *literalCues) FindAllStringIndex(s string, n int) [][]int {
	var out [][]int
	for i := 0; i < len(s) && (n < 0 || len(out) < n); {
		m, size := l.at(s, i)
		if m > 0 {
			out = append(out, []int{i, i + m})
			i += m
			continue
		}
		i += size
	}
	return out
}
