package knowledge

import (
	"slices"
	"strings"

	"github.com/mozillazg/go-pinyin"
)

// typoModel corrects the typos that pinyin input methods produce: a
// character replaced by another with the same (or a commonly confused)
// sound, e.g. 签子→签字, 补帖→补贴, 代头人→带头人, 危房改照→危房改造.
// It only proposes characters that occur in the corpus and only where the
// replacement forms a bigram the index knows while the typed one does not.
type typoModel struct {
	bySound map[string][]string // fuzzy syllable → corpus characters
	sounds  map[string][]string // corpus character → its fuzzy syllables (read-only)
}

func newTypoModel(ix *index) *typoModel {
	tm := &typoModel{bySound: make(map[string][]string), sounds: make(map[string][]string)}
	for t := range ix.terms {
		rs := []rune(t)
		if len(rs) != 1 || !isHan(rs[0]) {
			continue
		}
		snd := fuzzySounds(t)
		tm.sounds[t] = snd
		for _, s := range snd {
			tm.bySound[s] = append(tm.bySound[s], t)
		}
	}
	// a fixed order of candidates (the index's terms come in map order):
	// a repair that ties is the same in every process. The character more
	// passages use comes first.
	for _, cs := range tm.bySound {
		slices.SortFunc(cs, func(a, b string) int {
			if d := ix.df(b) - ix.df(a); d != 0 {
				return d
			}
			return strings.Compare(a, b)
		})
	}
	return tm
}

var pinyinArgs = func() pinyin.Args {
	a := pinyin.NewArgs()
	a.Style = pinyin.Normal
	// Only the main reading: rare readings (车 read jū) would make
	// corrections no typist makes.
	a.Heteronym = false
	return a
}()

// fuzzySounds returns the toneless readings of a character with the
// distinctions many speakers and input-method users blur folded together:
// zh/z, ch/c, sh/s, n/l, and -ng/-n.
func fuzzySounds(ch string) []string {
	var out []string
	seen := map[string]bool{}
	for _, readings := range pinyin.Pinyin(ch, pinyinArgs) {
		for _, r := range readings {
			f := foldSound(r)
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// chineseNumerals are never repaired.
const chineseNumerals = "零一二两三四五六七八九十"

func foldSound(s string) string {
	for _, p := range [][2]string{{"zh", "z"}, {"ch", "c"}, {"sh", "s"}} {
		if strings.HasPrefix(s, p[0]) {
			s = p[1] + s[len(p[0]):]
		}
	}
	if strings.HasPrefix(s, "n") && len(s) > 1 {
		s = "l" + s[1:]
	}
	if strings.HasSuffix(s, "ng") {
		s = s[:len(s)-1]
	}
	return s
}

// correct proposes replacements for the characters of one query segment
// whose bigrams are all unknown to the index. It returns corrected bigrams
// keyed by the typed bigram they replace.
func (tm *typoModel) correct(ix *index, seg []string) map[string]string {
	out := map[string]string{}
	known := func(t string) bool { return ix.df(t) > 0 }
	for i, a := range seg {
		if len([]rune(a)) != 1 || !isHan([]rune(a)[0]) || strings.Contains(chineseNumerals, a) {
			continue // a numeral is meant as typed (二十 is not 二是)
		}
		leftOK := i == 0 || known(seg[i-1]+a)
		rightOK := i+1 == len(seg) || known(a+seg[i+1])
		if leftOK && rightOK {
			continue
		}
		best, bestDF := "", 0
		// Only the main reading: go-pinyin's other readings include rare
		// ones (有 read wei, 前 read jian) that make repairs no typist
		// would need.
		snds, ok := tm.sounds[a]
		if !ok {
			snds = fuzzySounds(a)
		}
		for _, snd := range snds {
			for _, c := range tm.bySound[snd] {
				if c == a {
					continue
				}
				// A character that fits on one side and not the other
				// may just end a word (村里|办实事): its repair must fit
				// on the other side. A character that fits nowhere is
				// repaired when the repair fits on either side (改照先 →
				// 改造, whatever follows); fitting both counts more.
				oneSideFits := leftOK || rightOK
				df, fixed, broken := 0, 0, 0
				if i > 0 && !leftOK {
					broken++
					if d := ix.df(seg[i-1] + c); d > 0 {
						df += d
						fixed++
					}
				}
				if i+1 < len(seg) && !rightOK {
					broken++
					if d := ix.df(c + seg[i+1]); d > 0 {
						df += d
						fixed++
					}
				}
				if fixed == 0 || oneSideFits && fixed < broken {
					continue
				}
				df *= fixed
				if df > bestDF {
					best, bestDF = c, df
				}
			}
		}
		if best == "" {
			continue
		}
		// Both characters of a typed bigram may propose a repair of it
		// (部骤: 步骤 or 部走); the one the knowledge base uses more wins.
		put := func(typed, fixed string) {
			if old, ok := out[typed]; !ok || ix.df(fixed) > ix.df(old) {
				out[typed] = fixed
			}
		}
		if i > 0 && !leftOK && known(seg[i-1]+best) {
			put(seg[i-1]+a, seg[i-1]+best)
		}
		if i+1 < len(seg) && !rightOK && known(best+seg[i+1]) {
			put(a+seg[i+1], best+seg[i+1])
		}
	}
	return out
}
