package console

import (
	"regexp"
	"strconv"
	"strings"

	"policybot/handlers"
)

// What the console shows of the delivery pipeline's records, in Chinese:
// the kinds of message, the channels and the reasons a message did not go
// out. A value not listed is shown as recorded.

var kindNames = map[string]string{
	handlers.RemindVisit: "走访提醒", handlers.RemindAttendance: "在村天数提醒", handlers.RemindDeadline: "整改期限提醒",
	"task_closed": "任务销号", "daily_quiz": "每日一题", "notice": "通知",
}

var channelNames = map[string]string{
	"template": "模板消息", "subscribe": "订阅通知", "wecom": "企业微信", "custom": "客服消息",
}

// errcodeNames are WeChat's error codes an official meets, in words that
// say what to do.
var errcodeNames = map[int]string{
	43004: "对方没有关注公众号", 45015: "对方超过 48 小时没有互动，客服消息发不出", 45047: "客服消息条数超过上限",
	48001: "公众号没有这项接口权限", 40003: "对方的微信身份无效", 40037: "模板编号不对，请检查配置",
	45009: "今天的接口额度已用完，明天再发", 40001: "接口凭证失效", 42001: "接口凭证过期", -1: "微信系统繁忙",
}

var reErrcode = regexp.MustCompile(`errcode (-?\d+)`)

// reasonText is why a message did not go out, as an official reads it.
func reasonText(s string) string {
	if m := reErrcode.FindStringSubmatch(s); m != nil {
		code, _ := strconv.Atoi(m[1])
		if z, ok := errcodeNames[code]; ok {
			return z
		}
		return "微信返回错误 " + m[1]
	}
	switch {
	case s == "":
		return "（未知）"
	case strings.Contains(s, "no channel reaches"):
		return "没有能送达此人的渠道（未绑定微信，也没有配置企业微信）"
	case strings.Contains(s, "timeout") || strings.Contains(s, "deadline exceeded"):
		return "网络超时"
	case strings.Contains(s, "unreadable") || strings.Contains(s, "json"):
		return "消息内容损坏"
	}
	return "其他错误"
}

func nameOr(m map[string]string, s string) string {
	if z, ok := m[s]; ok {
		return z
	}
	return s
}
