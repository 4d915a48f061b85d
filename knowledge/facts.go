package knowledge

import (
	"regexp"
	"strings"
)

// facts: what each sentence offers, read once when the base is built.

// facts are what a sentence offers, computed once when the base is built
// (the same regular expressions as satisfiedBy, so results are identical).
type facts struct {
	phone, date, anyNumber, enumeration, actor bool
	items                                      int    // enumerationItems
	dutyLine                                   bool   // "(责任单位:…)": who does it
	fault                                      bool   // states a fault found (statesFault)
	units                                      uint64 // bit i: the vocabulary's unitOrder[i] satisfied
}

func (v *vocab) factsOf(text string) facts {
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
	for _, loc := range v.numeralUnit.FindAllStringSubmatchIndex(text, -1) {
		whole, unit := text[loc[0]:loc[1]], text[loc[2]:loc[3]]
		bits := v.unitBitsFor[unit]
		if unit == "年" && reCalendarYear.MatchString(whole) {
			bits &^= v.yearBit // a calendar year ("2019年") counts no years
		}
		if unit == "次" && strings.HasPrefix(text[loc[1]:], "性") {
			bits &^= v.timesBit // 一次性 is "at once", not a count
		}
		f.units |= bits
	}
	return f
}

// reCalendarYear matches a numeral-and-年 that names a year ("2019年").
var reCalendarYear = regexp.MustCompile(`\d{3,}(?:\.\d+)?\s*年`)
