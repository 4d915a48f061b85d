package knowledge

// The one reader of Chinese numerals: what a question says (两千五块),
// what a document writes (一万二千元) and what a model's answer claims are
// read alike, so 两千五 is 2500 everywhere.

var (
	numeralDigits = map[rune]int{'零': 0, '〇': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}
	numeralPlaces = map[rune]int{'十': 10, '百': 100, '千': 1000}
	numeralGroups = map[rune]int{'万': 10000, '亿': 100000000}
)

// chineseNumber reads a Chinese numeral: 二十 = 20, 三百五十 = 350, 一百零五
// = 105, 两万 = 20000, 十二万三千 = 123000. A trailing digit right after a
// place counts in the next lower place, as people say it: 两千五 = 2500,
// 一万二 = 12000, 三百五 = 350 (but 一千零五 = 1005). A run of digits
// alone is read digit by digit: 二〇二六 = 2026. ok is false for text that
// is not a numeral (一些, 十分 hold other characters).
func chineseNumber(s string) (v int, ok bool) {
	rs := []rune(s)
	if len(rs) == 0 {
		return 0, false
	}
	if len(rs) > 1 {
		allDigits := true
		for _, r := range rs {
			if _, d := numeralDigits[r]; !d {
				allDigits = false
				break
			}
		}
		if allDigits {
			for _, r := range rs {
				v = v*10 + numeralDigits[r]
			}
			return v, true
		}
	}
	total, section, num, last := 0, 0, -1, 0
	zero := false // a 零 since the last place: 一千零五 is 1005, not 1500
	for _, r := range rs {
		if d, isDigit := numeralDigits[r]; isDigit {
			if d == 0 {
				zero = true
			}
			num = d
			continue
		}
		if p, isPlace := numeralPlaces[r]; isPlace {
			if num < 0 {
				num = 1 // 十 = 10
			}
			section += num * p
			num, last, zero = -1, p, false
			continue
		}
		if g, isGroup := numeralGroups[r]; isGroup {
			if num > 0 {
				section += num
			}
			if section == 0 {
				section = 1 // 万 alone
			}
			total += section * g
			section, num, last, zero = 0, -1, g, false
			continue
		}
		return 0, false
	}
	if num > 0 {
		if last >= 10 && !zero {
			num *= last / 10 // 两千五: the 五 is 500
		}
		section += num
	}
	return total + section, true
}
