package console

import "testing"

// The pipeline's reasons reach officials as words they can act on.
func TestReasonText(t *testing.T) {
	for in, want := range map[string]string{
		"wechat send custom: errcode 45015: response out of time limit": "对方超过 48 小时没有互动，客服消息发不出",
		"wechat send template: errcode 99999: strange":                  "微信返回错误 99999",
		"no channel reaches this person":                                "没有能送达此人的渠道（未绑定微信，也没有配置企业微信）",
		"Post \"https://api.weixin.qq.com\": context deadline exceeded": "网络超时",
		"":                        "（未知）",
		"something else entirely": "其他错误",
	} {
		if got := reasonText(in); got != want {
			t.Errorf("reasonText(%q) = %q, want %q", in, got, want)
		}
	}
	if nameOr(kindNames, "daily_quiz") != "每日一题" || nameOr(channelNames, "wecom") != "企业微信" {
		t.Error("kind or channel not named in Chinese")
	}
}
