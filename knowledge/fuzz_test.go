package knowledge

import (
	"testing"
	"unicode/utf8"
)

// FuzzAnswer: whatever a person types, the base answers without a panic,
// in valid UTF-8 within one reply's size, and the same way twice.
// Run: go test ./knowledge -run '^$' -fuzz FuzzAnswer -fuzztime 60s
func FuzzAnswer(f *testing.F) {
	for _, s := range []string{"", "低保怎么申请", "四类人员有哪些？", "驻村工作队一个月最少得在村里住多少天",
		"社会救助体系打算用多长时间建好", "（1234567）", "哪两类", "\x00\xff", "吗吗吗吗", "1、2、3、", "多少多少多少钱",
		"致富带头人最后是哪一级拍板", "电话", "２０２６年几号", "啥子时候发"} {
		f.Add(s)
	}
	kb := mustDefault(f)
	f.Fuzz(func(t *testing.T, q string) {
		a := kb.answer(q)
		if !utf8.ValidString(a.Text) {
			t.Fatalf("%q: reply is not valid UTF-8", q)
		}
		if len(a.Text) > MaxReplyBytes {
			t.Fatalf("%q: reply of %d bytes", q, len(a.Text))
		}
		if b := kb.answer(q); b.Text != a.Text || b.Score != a.Score {
			t.Fatalf("%q answered differently the second time", q)
		}
		kb.Answer(q) // the thresholded path, with its cache
	})
}

// FuzzVocabularyFile: an uploaded word list is accepted or refused with an
// error, never a panic, and one that is accepted compiles into a base.
// Run: go test ./knowledge -run '^$' -fuzz FuzzVocabularyFile -fuzztime 60s
func FuzzVocabularyFile(f *testing.F) {
	f.Add("cues.txt", "[date]\n啥子时候 哪个时候\n[question]\n么子\n")
	f.Add("units.txt", "公斤 = 公斤 千克 斤\n")
	f.Add("stopwords.txt", "晓得 不晓得\n")
	f.Add("cues.txt", "[日期]\n啥时候\n")
	f.Add("cues.txt", "[number]\n(多少\n")
	f.Add("units.txt", "= =\n")
	f.Fuzz(func(t *testing.T, kind, text string) {
		name := "方言" + kind
		if !IsVocabularyFile(name) {
			return
		}
		if err := CheckVocabularyFile(name, []byte(text)); err != nil {
			return
		}
		v, err := withExtensions([]vocabFile{{name: name, text: text}})
		if err != nil {
			t.Fatalf("%s passed the check but does not compile: %v", name, err)
		}
		v.wantOf("化肥啥子时候发多少公斤")
	})
}
