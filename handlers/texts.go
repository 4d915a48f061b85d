package handlers

// User-facing Chinese texts live here, together, so that wording is
// reviewed in one place and no handler hard-codes a reply.
const (
	// TextUnanswered is sent when the knowledge base does not hold the
	// answer. It never guesses and always says where to ask instead.
	TextUnanswered = "抱歉，政策文件里没有找到这个问题的明确答案，我不乱说。建议问问您的帮扶责任人或村委会，也可以回复「人工」转人工服务。您的问题已记下，我们会补充进知识库。"
	// TextEmptyQuestion answers an empty or blank question.
	TextEmptyQuestion = "请直接打字说出您想问的政策问题，比如：驻村干部一个月要在村里住多少天？"
	// TextWelcome greets a new follower and says what the bot can do.
	TextWelcome = "您好，欢迎关注！我是政策小助手。\n1. 直接打字问政策问题，比如：帮扶干部最多帮几户？我会告诉您文件原文和出处。\n2. 回复「帮助」看我能做什么。\n3. 回复「人工」转人工服务。"
	// TextHelp lists what the bot can do.
	TextHelp = "我能做这些：\n· 政策问答：直接打字提问，比如“贫困户识别要走哪些程序”“驻村工作队每月住村多少天”。\n· 回复「更多」：看上一条回答的下一段。\n· 回复「人工」：转人工服务。\n问得越具体，答得越准；没有把握的问题我会如实说不知道。"
	// TextToHuman tells the person they are being handed to a human.
	TextToHuman = "已为您转接人工服务，请稍候，工作人员会在这里回复您。"
	// TextAskTyped answers a picture, video, link or unrecognised voice.
	TextAskTyped = "暂时看不懂图片、视频和语音，请直接打字提问，比如：贫困户识别要走哪些程序？"
	// TextMore is appended when an answer continues on the next page.
	TextMore = "（回复「更多」继续阅读）"
	// TextNoMore answers 更多 when nothing is left to read.
	TextNoMore = "没有更多内容了。可以继续打字提问。"
	// TextPendingIntro introduces an answer that could not be sent earlier.
	TextPendingIntro = "【您上次问题的回答】"
	// TextBusy is the customer-service follow-up when an answer failed.
	TextBusy = "抱歉，系统有点忙，请稍后再问一次，或回复「人工」。"
)
