package knowledge

import (
	"math"
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

// stopWords are the function words of colloquial questions: they say how a
// person asks, not what about, so they neither search nor count as content.
// Longest match wins, and synonym members are matched first, so 在村 keeps
// its 在.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
请问 请 问一下 一下 想问 问问 我想 我们 我家 我们村 俺家 俺们 俺 我 你们 你 他们 他 她 咱们 咱 人家
的 了 吗 呢 吧 啊 呀 嘛 哦 么 哈 啦 嗯 没有 没 有 是 不是 是不是 是否 能不能 能否 可不可以 可以 能 会 要 得
有没有 有无 会不会 要不要 该不该 需不需要 怎么样 怎么办 怎么 怎样 如何 咋办 咋弄 咋 啥 什么 哪些 哪个 哪里 哪儿
哪 谁 多少 几 多久 多长时间 还 就 都 也 又 到底 究竟 听说 听 讲 说 这个 那个 这种 那种 这样 那样 这回 这次 这 那
一个 给 让 被 把 和 跟 与 或 还是 上面 现在 今年 一共 总共 具体 主要 一般 按规定 规定 的话 行不行 行吗 对不对
该 应该 需要 想 知道 告诉 一下子 么样 些 什么时候 啥时候 时候 几号 从 到啥 啥程度 这样行不行
到啥程度 什么程度 到什么程度 多大程度 最晚 最迟 搞 弄
咋回事 怎么回事 啥意思 什么意思 是啥 指啥 指的是`) {
		m[w] = true
	}
	return m
}()

// answerKind is what a question asks for, read from its wording.
type answerKind int

const (
	wantAny answerKind = iota
	wantNumber
	wantDate
	wantPhone
	wantWho
	wantList
	wantHow  // 怎么办/咋处理: a procedure, shown whole
	wantFreq // 多久一次, 多长时间调度一回: how often (or how long)
)

// want is an answer kind with, for numbers, the unit asked for ("天" for
// 几天, "元" for 多少钱); an empty unit accepts any number.
type want struct {
	kind answerKind
	unit string
	// count is, for a list question that says how many (哪四种, 哪三样),
	// that number; 0 when it does not say.
	count int
	// soft: the unit was read from the noun counted (多少帮扶干部 → 人), so
	// it ranks sentences but any figure answers ("4.9万建档立卡贫困人口")
	soft bool
}

var (
	reWantPhone  = regexp.MustCompile(`电话|热线|号码`)
	reWantDate   = regexp.MustCompile(`几号|哪天|哪一天|哪几天|什么时候|啥时候|何时|几月|哪几个月|哪个月|截止|截至|期限|时限|哪年|年底前|之前|以前|到哪天|到哪一天|到哪个月|到哪年`)
	reWantNumber = regexp.MustCompile(`多少|几|百分之|比例|标准是|多大|多高|多宽|多重|多远`)
	// the unit right after 多少/几, or 钱 anywhere after 多少
	reNumberUnit = regexp.MustCompile(`(?:多少|几)(钱|天|户|人|个|名|家|头|倍|年|次|本|岁|亩|元|块|项|条|类|样|种|所|村|万)`)
	reHasDigits5 = regexp.MustCompile(`\d{5,}`)
	reHasDate    = regexp.MustCompile(`\d{1,2}·\d{1,2}|\d{1,4}\s*[年月日号]|[一二三四五六七八九十]+月|月底|年底|月中|上旬|中旬|下旬|\d+[-—~至到]\d+`)
	numeral      = `(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千万]+)`
)

// unitAliases lists what satisfies a unit asked for: 几块 means 元, 几个
// is answered by 个 or any counted noun, 几类 by a list.
var unitAliases = map[string]string{
	// as documents write them: 3个工作日 answers 几天, 十六周岁 answers 几岁
	"钱": "元|万元|亿元|块", "块": "元|块", "元": "元", "天": "天|日|个工作日|工作日", "户": "户", "人": "人|名", "名": "名|人",
	"个": "个|名|户|家|所|村|项", "家": "家|户", "头": "头", "倍": "倍", "年": "年|周年", "次": "次",
	"本": "本", "岁": "岁|周岁", "亩": "亩",
	// sizes asked with 多大面积, 多远, 多高, 多重
	"面积": "平方米|平米|平方公里|亩|公顷", "距离": "公里|千米|米|里", "长度": "米|公里", "重量": "斤|公斤|千克|吨", "项": "项|条", "条": "条|项", "所": "所", "村": "个|村",
}

var unitRes = func() map[string]*regexp.Regexp {
	m := map[string]*regexp.Regexp{}
	for u, alts := range unitAliases {
		m[u] = regexp.MustCompile(numeral + `\s*(?:` + alts + `)`)
	}
	// 几年 asks for a number of years; "2019年" is a date, not an answer
	m["年"] = regexp.MustCompile(`(?:^|[^\d])` + yearsNumeral + `\s*年`)
	// 几次 is not answered by 一次性 ("at once")
	m["次"] = regexp.MustCompile(numeral + `\s*次(?:[^性]|$)`)
	return m
}()

// yearsNumeral is a count of years: one or two digits, or Chinese numerals.
const yearsNumeral = `(?:\d{1,2}|[一二两三四五六七八九十]+)`

var reAnyNumber = regexp.MustCompile(`\d|[一二两三四五六七八九十百千万]+[个户人名天倍元万次项条类家头本岁年所村周]`)

// reWantWho marks questions that ask who or which body: they want a name,
// whatever figures they mention on the way.
var reWantWho = regexp.MustCompile(`谁|哪个部门|哪个单位|什么部门|哪一级|哪级|哪些人|哪个人|什么人|由哪`)

// wantOf reads what a question asks for. When it has several cues ("我们村
// 重新识别出来几户…该谁上门") the last one wins: people put the ask at the end.
func wantOf(q string) want {
	q = typoQuestionWords.Replace(q)
	best, at := want{}, -1
	consider := func(re *regexp.Regexp, w want) {
		for _, loc := range re.FindAllStringIndex(q, -1) {
			if loc[0] > at {
				best, at = w, loc[0]
			}
		}
	}
	if reWantPhone.MatchString(q) {
		return want{kind: wantPhone} // 电话多少: the 多少 asks for the number
	}
	consider(reWantWho, want{kind: wantWho})
	// a date cue wins a tie with a list cue at the same place (哪几个月)
	consider(reWantDate, want{kind: wantDate})
	consider(reWantList, want{kind: wantList})
	if best.kind == wantList {
		if m := reListCount.FindStringSubmatch(q); m != nil {
			best.count, _ = chineseNumber(m[1])
		}
	}
	consider(reWantHow, want{kind: wantHow})
	consider(reWantFreq, want{kind: wantFreq})
	for _, loc := range reWantNumber.FindAllStringIndex(q, -1) {
		if loc[0] <= at {
			continue
		}
		w := want{kind: wantNumber}
		rest := q[loc[0]:]
		if strings.HasSuffix(q[:loc[0]], "哪") {
			continue // 哪几个, 哪几个月: which ones or when, not how many
		}
		if dim, ok := sizeQuestion(q, rest); ok {
			if dim == "" {
				continue // 多大 with no measure named (多大年纪) is not a figure asked for
			}
			best, at = want{kind: wantNumber, unit: dim}, loc[0]
			continue
		}
		if m := reNumberUnit.FindStringSubmatch(rest); m != nil && strings.Index(rest, m[0]) == 0 {
			w.unit = m[1]
			if w.unit == "类" || w.unit == "种" || w.unit == "样" || (w.unit == "块" && !strings.Contains(rest, "钱")) {
				continue // 几类/几种/那几块 ask which ones, not how many
			}
			if w.unit == "万" {
				w.unit = "" // 几万 asks for a figure of any unit (万元, 万人)
			}
		} else if strings.HasPrefix(rest, "几") {
			continue // a bare 几 (走那几步) asks which ones
		} else if strings.HasPrefix(rest, "多少") && (reMoneyNoun.MatchString(lastRunes(q[:loc[0]], 10)) || reMoneyNoun.MatchString(firstRunes(rest[len("多少"):], 3)) || reMoneyVerb.MatchString(q[:loc[0]])) {
			w.unit = "钱" // 工资多少, 补贴标准一个月多少, 多少奖励: an amount of money
		} else if strings.HasPrefix(rest, "多少") {
			w.unit = countedNoun(firstRunes(rest[len("多少"):], 6)) // 多少帮扶干部: people
			w.soft = w.unit != ""
		}
		best, at = w, loc[0]
	}
	return best
}

// countedNoun is the unit that counts what follows 多少: 户 for households,
// 人 for people (干部, 党员, 劳动力), "" when it names neither.
func countedNoun(after string) string {
	switch {
	case strings.Contains(after, "户"):
		return "户"
	case rePeopleNoun.MatchString(after):
		return "人"
	}
	return ""
}

var rePeopleNoun = regexp.MustCompile(`人|干部|党员|劳力|学生|群众|队员|书记|医生`)

// sizeQuestion reads 多大面积, 多远, 多高, 多重 at the start of rest: the
// measure whose units answer it ("" for a 多大 that names none), and
// whether rest asks a size at all.
func sizeQuestion(q, rest string) (string, bool) {
	switch {
	case strings.HasPrefix(rest, "多大"):
		if strings.Contains(q, "面积") {
			return "面积", true
		}
		return "", true
	case strings.HasPrefix(rest, "多远"):
		return "距离", true
	case strings.HasPrefix(rest, "多高"), strings.HasPrefix(rest, "多宽"):
		return "长度", true
	case strings.HasPrefix(rest, "多重"):
		return "重量", true
	}
	return "", false
}

// reMoneyNoun marks what is counted in money when 多少 follows it.
var reMoneyNoun = regexp.MustCompile(`工资|工钱|补贴|补助|奖补|奖励|报酬|费|钱|金额|经费|津贴|低保金|养老金|贷|款|收入|赔偿|补偿`)

// firstRunes is the first n runes of s.
func firstRunes(s string, n int) string {
	rs := []rune(s)
	if len(rs) > n {
		rs = rs[:n]
	}
	return string(rs)
}

// reMoneyVerb: 补多少, 赔多少, 罚多少 ask for money.
var reMoneyVerb = regexp.MustCompile(`(?:补|赔|罚)$`)

// lastRunes is the last n runes of s.
func lastRunes(s string, n int) string {
	rs := []rune(s)
	if len(rs) > n {
		rs = rs[len(rs)-n:]
	}
	return string(rs)
}

// reWantFreq marks questions that ask how often or how long.
var reWantFreq = regexp.MustCompile(`多久|多长时间|隔多长|多少天一次|几天一次`)

// reFrequency matches a frequency or a span: 每月, 一月一调度, 月走访, 半月,
// 每季度, 半年一讲评, 30天, 三天.
var reFrequency = regexp.MustCompile(`[月季周旬]\s*(?:走访|调度|通报|督查|考核|讲评|巡查|例会)|季度|每[个]?(?:天|日|周|星期|旬|月|季|季度|年|半年)|[一每]月一|[一每]季一|[一每]周一|半月|半年|全年一|定期|\d+\s*(?:天|日|个月|周|年)|[一二两三四五六七八九十]+(?:天|个月|周)`)

// reWantHow marks questions that ask how to handle something.
var reWantHow = regexp.MustCompile(`怎么办|咋办|咋处理|怎么处理|如何处理|怎么弄|咋弄|怎么申请|咋申请|如何申请|怎么做|咋做|怎样处理`)

// reWantList marks questions that ask for the members of a set.
var reWantList = regexp.MustCompile(`哪些|哪几|哪[一二三四五六七八九十两]+[类种样个项条块]|有哪|包括什么|包括啥|包括哪`)

// reDutyLine matches the line that names who is responsible for a task.
var reDutyLine = regexp.MustCompile(`^\s*[(（]?\s*(?:责任单位|责任领导|责\s*任\s*人|牵头单位)\s*[:：]`)

// reListCount finds the number in 哪四种, 哪三样, 哪两类.
var reListCount = regexp.MustCompile(`哪([一二两三四五六七八九十])[类种样个项条块]`)

// enumerationItems is the number of items in the longest run of
// 、-separated items in text ("财政供养人员、有小汽车户、…" has as many
// items as it has 、 plus one, and "A、B和C" counts C).
func enumerationItems(text string) int {
	best := 0
	// quoted items written side by side: “一发了之”“一股了之”“一贷了之”
	for _, m := range reQuotedRun.FindAllString(text, -1) {
		best = max(best, strings.Count(m, "”“")+1)
	}
	if !strings.Contains(text, "、") {
		return best
	}
	for _, clause := range reClauseBreak.Split(text, -1) {
		n := strings.Count(clause, "、")
		if n == 0 {
			continue
		}
		n++
		last := clause[strings.LastIndex(clause, "、"):]
		if reLastItemJoin.MatchString(last) {
			n++
		}
		best = max(best, n)
	}
	return best
}

var (
	reQuotedRun    = regexp.MustCompile(`(?:“[^“”]{1,12}”){2,}`)
	reClauseBreak  = regexp.MustCompile(`[,;。:()“”]`)
	reLastItemJoin = regexp.MustCompile(`、[^和及与]{1,20}(和|及|以及|与)[^和及与]{1,20}$`)
)

// enumerates reports whether text enumerates: three quoted items side by
// side, a clause with two 、 between short items, one 、 and then 和/及/等,
// or numbered items (一是…二是, (1)…(2), ①…②, 1、…2、). It is written out
// rather than as one regular expression: it runs on every sentence when the
// knowledge base is built.
func enumerates(text string) bool {
	if strings.Contains(text, "”“") && reQuotedThree.MatchString(text) {
		return true
	}
	if strings.Contains(text, "、") {
		for _, clause := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' || r == '。' || r == '，' || r == '；' }) {
			items := strings.Split(clause, "、")
			for k := 1; k+1 < len(items); k++ { // two 、 around a short item
				if n := utf8.RuneCountInString(items[k]); n >= 1 && n <= 20 && items[k-1] != "" && items[k+1] != "" {
					return true
				}
			}
			for k := 1; k < len(items); k++ { // A、B和C, A、B等
				if items[k-1] != "" && reJoinAfter.MatchString(items[k]) {
					return true
				}
			}
		}
	}
	return ordered(text, "一是", "二是") || ordered(text, "(1)", "(2)") || ordered(text, "（1）", "（2）") ||
		ordered(text, "(一)", "(二)") || ordered(text, "（一）", "（二）") ||
		ordered(text, "①", "②") || reNumberedItems.MatchString(text)
}

var (
	reQuotedThree   = regexp.MustCompile(`“[^”]{1,12}”“[^”]{1,12}”“`)
	reJoinAfter     = regexp.MustCompile(`^[^、,;。]{1,30}?(和|及|以及|等)`)
	reNumberedItems = regexp.MustCompile(`1[、.].*2[、.]`)
)

// ordered reports whether a occurs in text and b after it.
func ordered(text, a, b string) bool {
	i := strings.Index(text, a)
	return i >= 0 && strings.Contains(text[i+len(a):], b)
}

// reActor matches a sentence that names who does something.
var reActor = regexp.MustCompile(`由.{1,24}(负责|牵头|组织|比对|核实|审核|审定|确定|追责|问责|查处|实施|办理|审批)|牵头|负责人|指挥长|组长|责任单位|责任人|成员`)

// prefers reports whether text looks like the kind of sentence the question
// asks for; it ranks sentences and never refuses.
func (w want) prefers(text string) bool {
	if w.kind == wantWho {
		return reActor.MatchString(text)
	}
	if w.kind == wantList {
		return !reDutyLine.MatchString(text) && enumerates(text)
	}
	if w.kind == wantNumber && w.soft {
		return unitRes[w.unit].MatchString(text)
	}
	return w.kind != wantAny && w.satisfiedBy(text)
}

// facts are what a sentence offers, computed once when the base is built
// (the same regular expressions as satisfiedBy, so results are identical).
type facts struct {
	phone, date, anyNumber, enumeration, actor bool
	items                                      int    // enumerationItems
	dutyLine                                   bool   // "(责任单位:…)": who does it
	units                                      uint32 // bit i: unitOrder[i] satisfied
}

// unitOrder fixes a bit for each unit a question may ask for.
var unitOrder = func() []string {
	var u []string
	for k := range unitAliases {
		u = append(u, k)
	}
	sort.Strings(u)
	return u
}()

func factsOf(text string) facts {
	f := facts{
		phone:     reHasDigits5.MatchString(text),
		date:      strings.ContainsAny(text, "0123456789月年旬") && reHasDate.MatchString(text),
		anyNumber: reAnyNumber.MatchString(text),
		// the cheap tests first: most sentences have none of the
		// characters these expressions need
		enumeration: enumerates(text),
		items:       enumerationItems(text),
		dutyLine:    reDutyLine.MatchString(text),
		actor:       strings.ContainsAny(text, "由牵负指组责成") && reActor.MatchString(text),
	}
	// one pass: every "numeral + unit" in the text sets the bits of the
	// units that accept it
	for _, loc := range reNumeralUnit.FindAllStringSubmatchIndex(text, -1) {
		whole, unit := text[loc[0]:loc[1]], text[loc[2]:loc[3]]
		bits := unitBitsFor[unit]
		if unit == "年" && reCalendarYear.MatchString(whole) {
			bits &^= yearBit // a calendar year ("2019年") counts no years
		}
		if unit == "次" && strings.HasPrefix(text[loc[1]:], "性") {
			bits &^= timesBit // 一次性 is "at once", not a count
		}
		f.units |= bits
	}
	return f
}

// reNumeralUnit finds every numeral followed by a unit word.
var reNumeralUnit = func() *regexp.Regexp {
	seen := map[string]bool{}
	var alts []string
	for _, a := range unitAliases {
		for _, w := range strings.Split(a, "|") {
			if !seen[w] {
				seen[w] = true
				alts = append(alts, w)
			}
		}
	}
	// longest first so 万元 wins over 元
	sort.Slice(alts, func(i, j int) bool { return len(alts[i]) > len(alts[j]) })
	return regexp.MustCompile(numeral + `\s*(` + strings.Join(alts, "|") + `)`)
}()

// reCalendarYear matches a numeral-and-年 that names a year ("2019年").
var reCalendarYear = regexp.MustCompile(`\d{3,}(?:\.\d+)?\s*年`)

// yearBit and timesBit are the bits of the units 年 and 次.
var (
	yearBit  = uint32(1) << sort.SearchStrings(unitOrder, "年")
	timesBit = uint32(1) << sort.SearchStrings(unitOrder, "次")
)

// unitBitsFor maps a unit word found after a numeral to the bits of the
// units it satisfies (万元 satisfies 钱; 名 satisfies 人, 名 and 个).
var unitBitsFor = func() map[string]uint32 {
	var words []string
	for _, a := range unitAliases {
		words = append(words, strings.Split(a, "|")...)
	}
	m := map[string]uint32{}
	for _, w := range words {
		for i, u := range unitOrder {
			for _, a := range strings.Split(unitAliases[u], "|") {
				// 万 and 千 are also numerals, so "10万元" counts as a figure
				// in 元 and "5千米" in 米; "1000平方米" is no distance
				if pre, ok := strings.CutSuffix(w, a); ok && strings.Trim(pre, "一二两三四五六七八九十百千万") == "" {
					m[w] |= 1 << i
				}
			}
		}
	}
	return m
}()

// prefersSentence is prefers for sentence i of p: on the precomputed facts,
// or for the rare question that asks how often, on the text itself (a
// frequency is not worth matching in every sentence at build time).
func (w want) prefersSentence(p *Passage, i int) bool {
	if w.kind == wantFreq {
		return reFrequency.MatchString(p.Sentences[i])
	}
	return w.prefersFacts(p.sentFacts[i])
}

// prefersFacts is prefers on precomputed facts.
func (w want) prefersFacts(f facts) bool {
	switch w.kind {
	case wantWho:
		return f.actor
	case wantList:
		if f.dutyLine {
			return false // "(责任单位:A、B、C)" enumerates who, not what
		}
		if w.count > 0 {
			return f.items == w.count
		}
		return f.enumeration
	case wantPhone:
		return f.phone
	case wantDate:
		return f.date
	case wantNumber:
		if w.unit != "" {
			i := sort.SearchStrings(unitOrder, w.unit)
			if i < len(unitOrder) && unitOrder[i] == w.unit {
				return f.units&(1<<i) != 0
			}
		}
		return f.anyNumber
	}
	return false
}

// satisfiedBy reports whether text has the kind of fact a question wants.
func (w want) satisfiedBy(text string) bool {
	switch w.kind {
	case wantPhone:
		return reHasDigits5.MatchString(text)
	case wantDate:
		return reHasDate.MatchString(text)
	case wantFreq:
		return reFrequency.MatchString(text)
	case wantWho:
		return true // a preference (see prefers), never a refusal
	case wantList:
		return enumerates(text)
	case wantNumber:
		if re, ok := unitRes[w.unit]; ok && !w.soft {
			return re.MatchString(text)
		}
		return reAnyNumber.MatchString(text)
	}
	return true
}

// unit is one piece of a question's content that evidence should cover: a
// word from a synonym group, or one character of the user's own words
// (covered by either bigram it belongs to), with the forms that count as
// the same. All units weigh the same: measured on the dev set, IDF weights
// from a corpus this small over-weight everyday words that happen to occur
// once (村里, 周一) and separate answerable from unanswerable questions worse.
type unit struct {
	forms  []string // normalised; any one present covers the unit
	weight float64
	// ids[i] is the index term id of forms[i] when that form is a single
	// term (a character or bigram): formNotTerm when it is longer (checked
	// by substring), formAbsent when no passage has it.
	ids []int32
	// titled[i]: a formAbsent forms[i] occurs in some document title (the
	// title is not indexed); bigrams[i]: the index ids of the bigrams of a
	// longer Han form, all of which a passage must hold before it is
	// searched for the form (nil when some bigram is in no passage, which
	// makes the form as good as absent)
	titled  []bool
	bigrams [][]int32
}

const (
	formNotTerm = -2
	formAbsent  = -1
)

// idfMix is the share of a unit's weight that does not depend on how rare
// its words are in the knowledge base.
var idfMix = 0.3

// formDF is how many passages hold f: exact for a term, and for a longer
// form the smallest count of its bigrams (an upper bound).
func formDF(ix *index, f string) int {
	rs := []rune(f)
	if len(rs) <= 2 {
		return ix.df(f)
	}
	best := -1
	for i := 0; i+1 < len(rs); i++ {
		if d := ix.df(string(rs[i : i+2])); best < 0 || d < best {
			best = d
		}
	}
	return best
}

// resolveForms fills u.ids for every unit.
func (q *query) resolveForms(ix *index) {
	for k := range q.units {
		u := &q.units[k]
		if idfMix < 1 {
			df := 0
			for _, f := range u.forms {
				df = max(df, formDF(ix, f))
			}
			m := math.Log(float64(ix.n+1)/float64(df+1)) / math.Log(float64(ix.n+1))
			u.weight *= idfMix + (1-idfMix)*m
		}
		u.ids = make([]int32, len(u.forms))
		u.titled = make([]bool, len(u.forms))
		u.bigrams = make([][]int32, len(u.forms))
		for i, f := range u.forms {
			for _, t := range ix.titles {
				if strings.Contains(t, f) {
					u.titled[i] = true
					break
				}
			}
			// only Han characters and bigrams: "17年" must still match
			// inside "2017年", which the term "2017" would not
			segs := segments(f)
			if len(segs) != 1 || len(segs[0]) > 2 || strings.Join(segs[0], "") != f || !allHan(f) {
				u.ids[i] = formNotTerm
				if allHan(f) {
					rs := []rune(f)
					ids := make([]int32, 0, len(rs)-1)
					for j := 0; j+1 < len(rs); j++ {
						id, ok := ix.terms[string(rs[j:j+2])]
						if !ok {
							ids = nil
							u.ids[i] = formAbsent
							break
						}
						ids = append(ids, id)
					}
					u.bigrams[i] = ids
				}
				continue
			}
			if id, ok := ix.terms[f]; ok {
				u.ids[i] = id
			} else {
				u.ids[i] = formAbsent
			}
		}
	}
}

// sentenceCoverage returns the coverage of each sentence of p (with p's
// heading path and title), using the precomputed term masks.
func (q *query) sentenceCoverage(p *Passage) []float64 {
	n := len(p.Sentences)
	out := make([]float64, n)
	if p.termMasks == nil {
		for i := range out {
			out[i] = q.coverage(p.normSentences[i], p.normContext)
		}
		return out
	}
	var all float64
	got := make([]float64, n)
	for _, u := range q.units {
		all += u.weight
		var mask uint64
		inCtx := false
		for i, f := range u.forms {
			switch id := u.ids[i]; id {
			case formAbsent:
			case formNotTerm:
				if !p.holdsAll(u.bigrams[i]) {
					continue
				}
				for s, ns := range p.normSentences {
					if strings.Contains(ns, f) {
						mask |= 1 << s
					}
				}
				if !inCtx && strings.Contains(p.normContext, f) {
					inCtx = true
				}
			default:
				m := p.sentencesWith(id)
				mask |= m
				inCtx = inCtx || m&ctxBit != 0
			}
			if id := u.ids[i]; id == formAbsent && u.titled[i] && !inCtx && strings.Contains(p.normContext, f) {
				inCtx = true // a title word the index does not hold
			}
		}
		for s := 0; s < n; s++ {
			if inCtx || mask&(1<<s) != 0 {
				got[s] += u.weight
			}
		}
	}
	if all == 0 {
		return out
	}
	for s := range out {
		out[s] = got[s] / all
	}
	return out
}

// reYesNo finds the predicate of a yes/no question: what follows the modal
// (能不能, 可以, 有没有…) up to the closing particle.
var reYesNo = regexp.MustCompile(`(?:能不能|可不可以|能否|可以|会不会|要不要|有没有|是不是|该不该|能|会)(.{2,16}?)(?:吗|呢|不|没|没有|么)?$`)

// reBareYesNo finds the last words of a yes/no question with no modal.
var reBareYesNo = regexp.MustCompile(`(.{2,4})(?:吗|么)$`)

// reWhWord finds a question word: a clause that has one is not a yes/no
// question, whatever modal it uses.
var reWhWord = regexp.MustCompile(`啥|什么|哪|几|多少|怎么|怎样|谁|咋|如何|多久|何`)

// predicateCoverage is, for a yes/no question, the weighted share of the
// units typed in its predicate that text covers; 1 for other questions.
func (q *query) predicateCoverage(text string) float64 {
	clause := q.norm
	if i := strings.LastIndexAny(clause, ",。!?;"); i >= 0 && i+1 < len(clause) {
		clause = clause[i+1:]
	}
	clause = strings.TrimRight(clause, ",。!?;")
	if reWhWord.MatchString(clause) {
		return 1 // 能盖到啥程度, 会咋样: a question word asks, not the modal
	}
	var pred string
	if m := reYesNo.FindStringSubmatch(clause); m != nil {
		pred = m[1]
	} else if m := reBareYesNo.FindStringSubmatch(clause); m != nil {
		pred = m[1] // 拆了给补偿吗: what comes just before 吗
	} else {
		return 1
	}
	var got, all float64
	for _, u := range q.units {
		if u.weight == 0 || !strings.Contains(pred, u.forms[0]) {
			continue
		}
		if len(u.ids) > 0 && u.ids[0] >= 0 && len([]rune(u.forms[0])) == 1 {
			continue // a common one-character verb (去, 帮, 给) says little
		}
		all += u.weight
		if u.in(text) {
			got += u.weight
		}
	}
	if all == 0 {
		return 1
	}
	return got / all
}

// phraseCoverage is the share of q's trigrams that text holds (0 when the
// question has none).
func (q *query) phraseCoverage(text string) float64 {
	if len(q.trigrams) == 0 {
		return 0
	}
	n := 0
	for _, t := range q.trigrams {
		if strings.Contains(text, t) {
			n++
		}
	}
	return float64(n) / float64(len(q.trigrams))
}

// passageCoverage is q.coverage(p.normEvidence), computed from p's term
// masks where it can (a term form is looked up, not searched for).
func (q *query) passageCoverage(p *Passage) float64 {
	if p.termMasks == nil {
		return q.coverage(p.normEvidence)
	}
	var got, all float64
	for _, u := range q.units {
		all += u.weight
		for i, f := range u.forms {
			var in bool
			switch id := u.ids[i]; {
			case id == formAbsent:
				in = u.titled[i] && strings.Contains(p.normContext, f) // a title word the index does not hold
			case id == formNotTerm:
				in = p.holdsAll(u.bigrams[i]) && strings.Contains(p.normEvidence, f)
			default:
				in = p.sentencesWith(id) != 0 // sentences, heading path and title
			}
			if in {
				got += u.weight
				break
			}
		}
	}
	if all == 0 {
		return 0
	}
	return got / all
}

// query is an analysed question.
type query struct {
	norm  string
	want  want
	terms map[string]float64 // retrieval terms and their weights
	units []unit
	fixes map[string]string // typo repairs made: typed bigram → repaired
	// trigrams are the three-character runs of the typed content: a
	// passage that has them has the question's words in its order
	trigrams []string
}

// analyse turns a question into retrieval terms and content units.
func (b *Base) analyse(question string) *query {
	q := &query{norm: Normalize(question), terms: map[string]float64{}}
	q.want = wantOf(q.norm)
	content := b.joinSplitWords(questionPhrase.ReplaceAllString(typoQuestionWords.Replace(q.norm), " "))
	add := func(t string, w float64) {
		if w > q.terms[t] {
			q.terms[t] = w
		}
	}
	// Pass 1: cut the question into content segments, protecting synonym
	// members and dropping stop words (longest match first).
	rs := []rune(content)
	var segs []string
	var cur strings.Builder
	endSeg := func() {
		if cur.Len() > 0 {
			segs = append(segs, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(rs); {
		matched := false
		for l := min(b.syn.longest, len(rs)-i); l >= 2; l-- {
			w := string(rs[i : i+l])
			if len(b.syn.byWord[w]) > 0 {
				alts := b.syn.alternatives(w)
				u := unit{forms: append([]string{w}, alts...)}
				for _, a := range alts {
					for t := range termCounts(a) {
						add(t, weightSynonym*termWeight(t))
					}
				}
				// weighs what the typed word would weigh as characters; a
				// question word (多久 → 每月) searches but is not content
				u.weight = float64(l)
				if stopWords[w] {
					u.weight = 0
				}
				q.units = append(q.units, u)
				// the user's own word also searches as typed, and stands as a
				// segment of its own so that no bigram straddles it
				endSeg()
				for t := range termCounts(w) {
					add(t, termWeight(t))
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
			if !stopWords[string(rs[i:i+l])] {
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
	covered := map[string]bool{}
	for _, u := range q.units {
		for t := range termCounts(u.forms[0]) {
			covered[t] = true
		}
	}
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

// chineseNumber reads a Chinese numeral: 二十 = 20, 三百五十 = 350,
// 两千五 = 2500 (a trailing digit counts in the next lower place), 一万二 =
// 12000.
func chineseNumber(s string) (int, bool) {
	digits := map[rune]int{'零': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}
	places := map[rune]int{'十': 10, '百': 100, '千': 1000}
	total, section, num, last := 0, 0, -1, 0
	for _, r := range s {
		if d, ok := digits[r]; ok {
			num = d
			continue
		}
		if p, ok := places[r]; ok {
			if num < 0 {
				num = 1 // 十 = 10
			}
			section += num * p
			num, last = -1, p
			continue
		}
		if r == '万' {
			if num > 0 {
				section += num
			}
			total += section * 10000
			section, num, last = 0, -1, 10000
			continue
		}
		return 0, false
	}
	if num > 0 {
		if last >= 10 {
			num *= last / 10 // 两千五: the 五 is 500
		}
		section += num
	}
	return total + section, total+section > 0
}

// particles are stop characters that never start or end a content word.
var particles = map[rune]bool{'的': true, '了': true, '吗': true, '呢': true, '吧': true, '啊': true, '呀': true, '嘛': true, '哦': true, '么': true, '哈': true, '啦': true, '嗯': true, '我': true, '你': true, '他': true, '她': true, '俺': true, '咱': true, '咋': true, '啥': true, '谁': true, '哪': true}

// partOfKnownWord reports whether rs[i] forms, with a neighbour that is
// not itself a stop character, a bigram that occurs in the knowledge base.
func (b *Base) partOfKnownWord(rs []rune, i int) bool {
	if i > 0 && !stopWords[string(rs[i-1])] && b.ix.df(string(rs[i-1:i+1])) > 0 {
		return true
	}
	if i+1 < len(rs) && !stopWords[string(rs[i+1])] && b.ix.df(string(rs[i:i+2])) > 0 {
		return true
	}
	return false
}

// termWeight gives bigrams full weight and single atoms less.
func termWeight(t string) float64 {
	if len([]rune(t)) >= 2 && isHan([]rune(t)[0]) {
		return weightBigram
	}
	return weightUnigram
}

// coverage is the weighted share of the question's units present in any
// of texts (normalised).
func (q *query) coverage(texts ...string) float64 {
	var got, all float64
	for _, u := range q.units {
		all += u.weight
		if u.in(texts...) {
			got += u.weight
		}
	}
	if all == 0 {
		return 0
	}
	return got / all
}

// in reports whether any of u's forms occurs in any of texts.
func (u *unit) in(texts ...string) bool {
	for _, f := range u.forms {
		for _, t := range texts {
			if strings.Contains(t, f) {
				return true
			}
		}
	}
	return false
}

func allHan(s string) bool {
	for _, r := range s {
		if !isHan(r) {
			return false
		}
	}
	return true
}
