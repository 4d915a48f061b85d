package knowledge

import (
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// What a question asks for (a figure in its unit, a date, a list, who,
// how often, how to) and whether evidence has it.

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
	// v is the vocabulary the question was read with (nil: the default)
	v *vocab
}

// vocab is the vocabulary w was read with.
func (w want) vocab() *vocab {
	if w.v != nil {
		return w.v
	}
	return defaultVocab
}

var (
	reHasDigits5 = regexp.MustCompile(`\d{5,}`)
	reHasDate    = regexp.MustCompile(`\d{1,2}·\d{1,2}|\d{1,4}\s*[年月日号]|[一二三四五六七八九十]+月|月底|年底|月中|上旬|中旬|下旬|\d+[-—~至到]\d+`)
	numeral      = `(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千万]+)`
)

// yearsNumeral is a count of years: one or two digits, or Chinese numerals.
const yearsNumeral = `(?:\d{1,2}|[一二两三四五六七八九十]+)`

var reAnyNumber = regexp.MustCompile(`\d|[一二两三四五六七八九十百千万]+[个户人名天倍元万次项条类家头本岁年所村周]`)

// wantOf reads what a question asks for. When it has several cues ("我们村
// 重新识别出来几户…该谁上门") the last one wins: people put the ask at the end.
func (v *vocab) wantOf(q string) want {
	q = typoQuestionWords.Replace(q)
	best, at := want{v: v}, -1
	consider := func(re cueMatcher, w want) {
		for _, loc := range re.FindAllStringIndex(q, -1) {
			if loc[0] > at {
				best, at = w, loc[0]
			}
		}
	}
	if v.cues["phone"].MatchString(q) {
		return want{kind: wantPhone, v: v} // 电话多少: the 多少 asks for the number
	}
	consider(v.cues["who"], want{kind: wantWho, v: v})
	// a date cue wins a tie with a list cue at the same place (哪几个月)
	consider(v.cues["date"], want{kind: wantDate, v: v})
	consider(v.cues["list"], want{kind: wantList, v: v})
	if best.kind == wantList {
		if m := reListCount.FindStringSubmatch(q); m != nil {
			best.count, _ = chineseNumber(m[1])
		}
	}
	consider(v.cues["how"], want{kind: wantHow, v: v})
	consider(v.cues["freq"], want{kind: wantFreq, v: v})
	for _, loc := range v.cues["number"].FindAllStringIndex(q, -1) {
		if loc[0] <= at {
			continue
		}
		w := want{kind: wantNumber, v: v}
		rest := q[loc[0]:]
		if strings.HasSuffix(q[:loc[0]], "哪") {
			continue // 哪几个, 哪几个月: which ones or when, not how many
		}
		if dim, ok := sizeQuestion(q, rest); ok {
			if dim == "" {
				continue // 多大 with no measure named (多大年纪) is not a figure asked for
			}
			best, at = want{kind: wantNumber, unit: dim, v: v}, loc[0]
			continue
		}
		if m := v.numberUnit.FindStringSubmatch(rest); m != nil && strings.Index(rest, m[0]) == 0 {
			w.unit = m[1]
			if w.unit == "类" || w.unit == "种" || w.unit == "样" || (w.unit == "块" && !strings.Contains(rest, "钱")) {
				continue // 几类/几种/那几块 ask which ones, not how many
			}
			if w.unit == "万" {
				w.unit = "" // 几万 asks for a figure of any unit (万元, 万人)
			}
		} else if strings.HasPrefix(rest, "几") {
			continue // a bare 几 (走那几步) asks which ones
		} else if strings.HasPrefix(rest, "多少") && (v.cues["money"].MatchString(lastRunes(q[:loc[0]], 10)) || v.cues["money"].MatchString(firstRunes(rest[len("多少"):], 3)) || reMoneyVerb.MatchString(q[:loc[0]])) {
			w.unit = "钱" // 工资多少, 补贴标准一个月多少, 多少奖励: an amount of money
		} else if strings.HasPrefix(rest, "多少") {
			w.unit = v.countedNoun(firstRunes(rest[len("多少"):], 6)) // 多少帮扶干部: people
			w.soft = w.unit != ""
		}
		best, at = w, loc[0]
	}
	return best
}

// countedNoun is the unit that counts what follows 多少: 户 for households,
// 人 for people (干部, 党员, 劳动力), "" when it names neither.
func (v *vocab) countedNoun(after string) string {
	switch {
	case strings.Contains(after, "户"):
		return "户"
	case v.cues["people"].MatchString(after):
		return "人"
	}
	return ""
}

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

// reFrequency matches a frequency or a span: 每月, 一月一调度, 月走访, 半月,
// 每季度, 半年一讲评, 30天, 三天.
var reFrequency = regexp.MustCompile(`[月季周旬]\s*(?:走访|调度|通报|督查|考核|讲评|巡查|例会)|季度|每[个]?(?:天|日|周|星期|旬|月|季|季度|年|半年)|[一每]月一|[一每]季一|[一每]周一|半月|半年|全年一|定期|\d+\s*(?:天|日|个月|周|年)|[一二两三四五六七八九十]+(?:天|个月|周)`)

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
		return w.vocab().unitRes[w.unit].MatchString(text)
	}
	return w.kind != wantAny && w.satisfiedBy(text)
}

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
			order := w.vocab().unitOrder
			i := sort.SearchStrings(order, w.unit)
			if i < len(order) && order[i] == w.unit {
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
		if re, ok := w.vocab().unitRes[w.unit]; ok && !w.soft {
			return re.MatchString(text)
		}
		return reAnyNumber.MatchString(text)
	}
	return true
}
