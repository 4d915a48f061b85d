package knowledge

import (
	"regexp"
	"strings"
)

// debrisLine matches lines that web pages and office exports leave in policy
// texts and that carry no policy content. Curated corpus files have had them
// removed by hand; this catches them in documents officials add later.
var debrisLine = regexp.MustCompile(`^(返回首页|客户端下载|文档为doc格式|打印本页|关闭窗口|分享到:?.*|编辑[:：].{0,20}|责任编辑[:：].{0,20}|.{0,12}app官方|时间[:：]\s*\d{4}-\d{2}-\d{2}.*|来源[:：].{0,30}\d{4}-\d{2}-\d{2}.*)$`)

// cleanLines splits text into trimmed lines, dropping blank lines and debris.
func cleanLines(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var out []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimFunc(l, func(r rune) bool { return r == ' ' || r == '\t' || r == '\u3000' || r == '\u00a0' || r == '\ufeff' })
		if l == "" || debrisLine.MatchString(l) {
			continue
		}
		out = append(out, l)
	}
	return out
}
