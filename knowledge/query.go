package knowledge

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Weights of the terms a question contributes to retrieval.
const (
	weightBigram  = 1.0
	weightUnigram = 0.4
	weightSynonym = 0.6 // a synonym group member the user did not type
	weightTypo    = 0.9 // a homophone correction
)

// query is an analysed question.
type query struct {
	norm  string
	want  want
	terms map[string]float64 // retrieval terms and their weights
	// ordered are the same terms by term, set when the analysis is done:
	// what retrieval sums over
	ordered []weighted
	units   []unit
	fixes   map[string]string // typo repairs made: typed bigram → repaired
	// trigrams are the three-character runs of the typed content: a
	// passage that has them has the question's words in its order
	trigrams   []string
	trigramIDs [][]int32 // the index ids of each trigram's two bigrams (nil: not both terms)
}

// analyse turns a question into retrieval terms and content units.
func (b *Base) analyse(question string) *query {
	// sized for a typical question with a synonym or two: growing the
	// map was the largest allocation of the answer path
	q := &query{norm: Normalize(question), terms: make(map[string]float64, 32), units: make([]unit, 0, 16)}
	q.want = b.vocab.wantOf(q.norm)
	content := questionPhrase.ReplaceAllString(typoQuestionWords.Replace(q.norm), " ")
	if q.want.kind == wantNumber && !q.want.soft && utf8.RuneCountInString(q.want.unit) > 1 {
		// 多少公斤: a unit word asked for shapes the answer (50千克 answers
		// it); it is not a word the passage must contain
		content = q.want.v.numberUnit.ReplaceAllStringFunc(content, func(m string) string {
			if strings.HasSuffix(m, q.want.unit) {
				return " "
			}
			return m
		})
	}
	content = b.joinSplitWords(content)
	add := func(t string, w float64) {
		if w > q.terms[t] {
			q.terms[t] = w
		}
	}
	// Pass 1: cut the question into content segments, protecting synonym
	// members and dropping stop words (longest match first).
	rs := []rune(content)
	// words are cut from content without copying
	off := runeOffsets(content)
	var segs []string
	var cur strings.Builder
	// the terms of the synonym members typed: their characters are covered
	// by the member's unit, not by units of their own
	covered := map[string]bool{}
	endSeg := func() {
		if cur.Len() > 0 {
			segs = append(segs, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(rs); {
		matched := false
		longest := min(b.syn.longest, len(rs)-i)
		if longest >= 2 && !b.syn.starts2[content[off[i]:off[i+2]]] {
			longest = 0 // no member starts here
		}
		for l := longest; l >= 2; l-- {
			w := content[off[i]:off[i+l]]
			if e, ok := b.syn.expand[w]; ok {
				u := unit{forms: e.forms}
				for t, tw := range e.terms {
					add(t, tw)
				}
				// weighs what the typed word would weigh as characters; a
				// question word (多久 → 每月) searches but is not content
				u.weight = float64(l)
				if b.vocab.stop[w] {
					u.weight = 0
				}
				q.units = append(q.units, u)
				// the user's own word also searches as typed, and stands as a
				// segment of its own so that no bigram straddles it
				endSeg()
				for _, o := range e.own {
					add(o.t, o.w)
					covered[o.t] = true
				}
				i += l
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		for l := min(4, len(rs)-i); l >= 1; l-- {
			if !b.vocab.stop[content[off[i]:off[i+l]]] {
				continue
			}
			// A lone stop character inside a word the documents use (就 in
			// 就业, 请 in 申请, 会 in 会议) is content, not a function word.
			if l == 1 && !particles[rs[i]] && b.partOfKnownWord(rs, i) {
				break
			}
			endSeg()
			i += l
			matched = true
			break
		}
		if matched {
			continue
		}
		if !isHan(rs[i]) && !isWordRune(rs[i]) {
			endSeg()
		} else {
			cur.WriteRune(rs[i])
		}
		i++
	}
	endSeg()
	// Trigrams of the typed content, for phrase matching.
	for _, sg := range segs {
		rs := []rune(sg)
		for i := 0; i+3 <= len(rs); i++ {
			if allHan(string(rs[i : i+3])) {
				q.trigrams = append(q.trigrams, string(rs[i:i+3]))
			}
		}
	}
	// Pass 2: retrieval terms and units from the content segments.
	for _, s := range segs {
		for _, atoms := range segments(s) {
			fixes := b.typo.correct(b.ix, atoms)
			for typed, fix := range fixes {
				if q.fixes == nil {
					q.fixes = map[string]string{}
				}
				q.fixes[typed] = fix
			}
			bigramForms := make([][]string, len(atoms)) // forms of bigram (i, i+1)
			for i, a := range atoms {
				add(a, weightUnigram)
				if i+1 == len(atoms) {
					continue
				}
				bg := a + atoms[i+1]
				add(bg, weightBigram)
				bigramForms[i] = []string{bg}
				if fix, ok := fixes[bg]; ok {
					bigramForms[i] = append(bigramForms[i], fix)
					add(fix, weightTypo)
					for _, r := range []rune(fix) {
						add(string(r), weightUnigram*weightTypo)
					}
				}
			}
			// One unit per character: covered when a bigram it belongs to is
			// in the evidence. A bigram that straddles two words in the
			// question ("队一" in 工作队一个月) then costs nothing, because its
			// characters are covered by the words on either side.
			if len(atoms) == 1 {
				if !covered[atoms[0]] {
					q.units = append(q.units, unit{forms: []string{atoms[0]}, weight: 1})
				}
				continue
			}
			for i := range atoms {
				var forms []string
				for _, j := range []int{i - 1, i} {
					if j < 0 || j >= len(atoms)-1 || covered[bigramForms[j][0]] {
						continue
					}
					forms = append(forms, bigramForms[j]...)
				}
				if len(forms) == 0 {
					continue
				}
				q.units = append(q.units, unit{forms: forms, weight: 1})
			}
		}
	}
	q.ordered = inOrder(q.terms)
	return q
}

// questionPhrase matches 哪 with a classifier (哪一级, 哪三样, 哪几类, 哪个):
// it says what shape the answer takes, not what it is about, so it is not
// content ("四种" elsewhere in the question still is).
var questionPhrase = regexp.MustCompile(`哪[一二两三四五六七八九十几]?(?:级|类|种|样|项|条|个|些|块|家|方面)`)

// typoQuestionWords: 那些/那几 in a question is nearly always a typo for
// 哪些/哪几.
var typoQuestionWords = strings.NewReplacer("那些", "哪些", "那几", "哪几")

// prepare analyses a question for retrieval. When typos were repaired, the
// repaired question is analysed again, so that synonyms and stop words see
// the words as meant (懂态调整 → 动态调整, a synonym of 动态管理).
func (b *Base) prepare(question string) *query {
	q := b.analyse(arabicAmounts(Normalize(question)))
	if len(q.fixes) > 0 {
		typed := make([]string, 0, len(q.fixes))
		for t := range q.fixes {
			typed = append(typed, t)
		}
		sort.Strings(typed)
		fixed := q.norm
		for _, t := range typed {
			fixed = strings.Replace(fixed, t, q.fixes[t], 1)
		}
		if fixed != q.norm {
			q = b.analyse(fixed)
		}
	}
	q.resolveForms(b.ix)
	return q
}

// joinSplitWords closes a verb-object word that speech splits with an aspect
// particle: 脱了贫 → 脱贫, 住过院 → 住院, 看完病 → 看病, when the knowledge base
// uses the joined pair more than the pair the particle starts.
func (b *Base) joinSplitWords(s string) string {
	rs := []rune(s)
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); i++ {
		// the joined pair must be more common than the pair the particle
		// starts (not 了解, 过程, 完成, 着力)
		if i > 0 && i+1 < len(rs) && strings.ContainsRune("了过完着", rs[i]) && isHan(rs[i-1]) && isHan(rs[i+1]) {
			if joined := b.ix.df(string([]rune{rs[i-1], rs[i+1]})); joined > 0 && joined > b.ix.df(string(rs[i:i+2])) {
				continue
			}
		}
		out = append(out, rs[i])
	}
	return string(out)
}

// reChineseAmount finds an amount written in Chinese numerals that the
// documents would write in digits: one with a place value (二十天, 四千块) or
// one of money, age or area (五块钱, 六十岁).
var reChineseAmount = regexp.MustCompile(`([零一二两三四五六七八九十百千万]+)(块钱|块|元|天|岁|亩|户|人|名|个月|年|万元)`)

// reDigitsKuai finds 块 (colloquial for 元) after digits.
var reDigitsKuai = regexp.MustCompile(`(\d)块钱?`)

// arabicAmounts rewrites amounts as the documents write them: 四千块 →
// 4000元, 二十天 → 20天, 5块钱 → 5元. Set phrases (五个一批, 一户一方案,
// 两不愁) have no place value and no such unit, and stay.
func arabicAmounts(s string) string {
	s = reChineseAmount.ReplaceAllStringFunc(s, func(m string) string {
		sub := reChineseAmount.FindStringSubmatch(m)
		num, unit := sub[1], sub[2]
		placed := strings.ContainsAny(num, "十百千万")
		money := unit == "块钱" || unit == "块" || unit == "元" || unit == "万元" || unit == "岁" || unit == "亩"
		if !placed && !money {
			return m
		}
		v, ok := chineseNumber(num)
		if !ok {
			return m
		}
		if unit == "块钱" || unit == "块" {
			unit = "元"
		}
		return strconv.Itoa(v) + unit
	})
	return reDigitsKuai.ReplaceAllString(s, "${1}元")
}

// particles are stop characters that never start or end a content word.
var particles = map[rune]bool{'的': true, '了': true, '吗': true, '呢': true, '吧': true, '啊': true, '呀': true, '嘛': true, '哦': true, '么': true, '哈': true, '啦': true, '嗯': true, '我': true, '你': true, '他': true, '她': true, '俺': true, '咱': true, '咋': true, '啥': true, '谁': true, '哪': true}

// partOfKnownWord reports whether rs[i] forms, with a neighbour that is
// not itself a stop character, a bigram that occurs in the knowledge base.
func (b *Base) partOfKnownWord(rs []rune, i int) bool {
	if i > 0 && !b.vocab.stop[string(rs[i-1])] && b.ix.df(string(rs[i-1:i+1])) > 0 {
		return true
	}
	if i+1 < len(rs) && !b.vocab.stop[string(rs[i+1])] && b.ix.df(string(rs[i:i+2])) > 0 {
		return true
	}
	return false
}
