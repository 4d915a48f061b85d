package knowledge

import (
	"regexp"
	"sort"
	"strings"
)

// facts: what each sentence offers, read once when the base is built.

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
