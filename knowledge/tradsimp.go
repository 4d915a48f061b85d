package knowledge

// tradToSimp maps the traditional characters most likely to appear in
// questions about rural policy onto their simplified forms. It is a cheap,
// deliberately partial table (a full OpenCC conversion would need phrase
// context and megabytes of data); characters not listed pass through.
var tradToSimp = func() map[rune]rune {
	pairs := "貧贫戶户幫帮補补醫医療疗險险錢钱幾几請请認认證证發发費费養养農农駐驻幹干書书記记數数標标準准資资們们個个為为麼么這这來来時时間间實实會会學学報报號号電电話话貸贷辦办處处長长門门問问題题關关於于與与產产業业務务員员應应該该還还沒没給给對对說说讓让從从後后點点樣样兒儿頭头鄉乡鎮镇縣县區区級级線线網网絡络經经濟济領领導导組组織织責责訂订閱阅腦脑雖虽麥麦糧粮種种畝亩塊块萬万億亿歲岁孫孙屬属邊边親亲鄰邻買买賣卖價价貨货單单據据歷历條条規规則则權权傷伤殘残殯殡喪丧補补護护環环衛卫廁厕飲饮園园庫库難难窮穷災灾療疗藥药貼贴龍龙車车輛辆鐵铁橋桥場场機机術术專专師师齊齐雙双觀观認认識识職职稱称獎奖勵励評评審审屆届選选舉举黨党團团聯联黃黄張张劉刘陳陈楊杨趙赵華华東东廣广開开關关氣气熱热燈灯風风雲云無无愛爱夠够聽听見见覺觉親亲"
	m := make(map[rune]rune)
	rs := []rune(pairs)
	for i := 0; i+1 < len(rs); i += 2 {
		m[rs[i]] = rs[i+1]
	}
	return m
}()
