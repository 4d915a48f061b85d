package handlers

// User-facing Chinese texts live here, together, so that wording is
// reviewed in one place and no handler hard-codes a reply.
const (
	// TextUnanswered is sent when the knowledge base does not hold the
	// answer. It never guesses and always says where to ask instead.
	TextUnanswered = "抱歉，政策文件里没有找到这个问题的明确答案，我不乱说。建议问问您的帮扶责任人或村委会，也可以回复「人工」转人工服务。"
	// TextChoicesIntro and TextChoicesHow frame the topics offered when
	// the answer is not certain (猜你想问).
	TextChoicesIntro = "没有找到确切的答案。您是不是想问："
	TextChoicesHow   = "回复数字（比如 1）看这一条；都不是的话，请换个说法再问，或回复「人工」。"
	// TextChoiceGone: the topic picked is no longer in the knowledge base.
	TextChoiceGone = "这一条刚刚从知识库里更新掉了，请把问题再问一遍。"
	// TextEmptyQuestion answers an empty or blank question.
	TextEmptyQuestion = "请直接打字说出您想问的政策问题，比如：驻村干部一个月要在村里住多少天？"
	// TextWelcome greets a new follower and says what the bot can do.
	TextWelcome = "您好，欢迎关注！我是政策小助手。\n1. 直接打字问政策问题，比如：帮扶干部最多帮几户？我会告诉您文件原文和出处。\n2. 回复「答题」做几道政策题，答完有解析。\n3. 回复「帮助」看我能做什么，回复「人工」转人工服务。"
	// TextHelp lists what the bot can do.
	TextHelp = "我能做这些：\n· 政策问答：直接打字提问，比如“贫困户识别要走哪些程序”“驻村工作队每月住村多少天”。\n· 回复「更多」：看上一条回答的下一段。\n· 回复「答题」：做一轮政策题（5 题），「退出」结束；「订阅每日一题」每天一题，「退订」取消。\n· 回复「设置 村名」：加入本村答题排行；「排行榜」看本周排名。\n· 回复「人工」：转人工服务。\n问得越具体，答得越准；没有把握的问题我会如实说不知道。"
	// TextToHuman tells the person they are being handed to a human.
	TextToHuman = "已为您转接人工服务，请稍候，工作人员会在这里回复您。"
	// TextToHumanLocal answers 「人工」 in local mode, where nobody can reply.
	TextToHumanLocal = "现在是本地试用模式，还没有接入公众号，没有工作人员能在这里回复。正式接入公众号后，「人工」会把对话转给公众号后台的客服人员。有急事请直接联系您的帮扶责任人或村委会。"
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

// Quiz texts. %s and %d fill in as named in each comment.
const (
	// TextQuizIntro starts a round (%d: number of questions).
	TextQuizIntro = "政策答题开始，共 %d 题，答完有解析和出处。回复字母作答，回复「退出」结束。"
	// TextQuizHeader heads a question (%d: number, %d: total, %s: kind).
	TextQuizHeader = "第 %d/%d 题（%s）"
	// TextQuizHowSingle and the others tell how to answer each kind.
	TextQuizHowSingle = "回复一个字母作答，如：B"
	TextQuizHowMulti  = "可选多个，一次回复全部字母，如：AC"
	TextQuizHowJudge  = "回复「对」或「错」"
	// TextQuizRight and TextQuizWrong (%s: the right answer) open feedback.
	TextQuizRight = "✔ 答对了！"
	TextQuizWrong = "✘ 答错了，正确答案是：%s"
	// TextQuizReveal answers 「不知道」 (%s: the right answer).
	TextQuizReveal = "没关系，正确答案是：%s"
	// TextQuizExplain prefixes the explanation, TextQuizSource the source.
	TextQuizExplain = "解析："
	TextQuizSource  = "出处："
	// TextQuizDone ends a round (%d right of %d).
	TextQuizDone = "本轮结束，答对 %d/%d 题。"
	// TextQuizStanding gives the weekly standing (%s village, %d correct, %d rank).
	TextQuizStanding = "本周您在%s答对 %d 题，排第 %d 名。"
	// TextQuizStandingAll is the standing among everyone (%d correct, %d rank).
	TextQuizStandingAll = "本周您答对 %d 题，在全部答题人中排第 %d 名。"
	// TextQuizNoStanding: no correct answer yet this week.
	TextQuizNoStanding = "本周您还没有答对的题。回复「答题」试试吧。"
	// TextQuizSetPlaceHint invites setting the village for its leaderboard.
	TextQuizSetPlaceHint = "回复「设置 村名」（如：设置 金家村）加入本村排行榜。"
	// TextQuizAgain closes a round.
	TextQuizAgain = "回复「答题」再来一轮，回复「订阅每日一题」每天收到一道题。"
	// TextQuizExit leaves a round (%d right of %d answered).
	TextQuizExit = "已退出答题，这轮答对 %d/%d 题。想继续随时回复「答题」。"
	// TextQuizNoRound answers an answer-like message outside a round.
	TextQuizNoRound = "现在没有进行中的答题。回复「答题」开始一轮政策答题。"
	// TextQuizBadAnswer asks again (%s: how to answer this question).
	TextQuizBadAnswer = "这道题要这样答：%s。不会的话回复「不知道」看答案；回复「退出」结束答题。"
	// TextQuizAlreadyAnswered: the same question was answered twice.
	TextQuizAlreadyAnswered = "这道题已经答过了，请看下一题。"
	// TextQuizEmptyBank: no questions are loaded.
	TextQuizEmptyBank = "题库暂时是空的，请稍后再来。"
	// TextQuizLeaderboard heads a village board (%s village).
	TextQuizLeaderboard = "%s本周答题排行："
	// TextDailyOn confirms the daily question (%s: the time it is sent).
	TextDailyOn = "已订阅每日一题，每天 %s 左右发给您。回复「退订」可随时取消。"
	// TextDailyOff confirms unsubscribing.
	TextDailyOff = "已退订每日一题。想再订阅，回复「订阅每日一题」。"
	// TextDailyHeader heads the daily question.
	TextDailyHeader = "【每日一题】"
	// TextDailyDone: today's daily question is already answered.
	TextDailyDone = "今天的每日一题您已经答过了，明天再来！回复「答题」可以多练几题。"
	// TextPlaceSet confirms the place (%s town, %s village).
	TextPlaceSet = "已设置：%s%s。您的答题成绩会计入本村排行。"
	// TextPlaceUnknown: no such village (%s what was typed).
	TextPlaceUnknown = "没有找到「%s」。请回复「设置 村名」，村名要和村委会的叫法一致。"
	// TextPlaceSuggest offers close matches (%s typed, %s choices).
	TextPlaceSuggest = "没有找到「%s」，您是不是要找：%s？请回复「设置 」加上其中一个。"
	// TextPlaceAmbiguous (%d, %s: how many, the name), TextPlaceMaybe (%s)
	// and TextPlacePickHow offer numbered places to pick.
	TextPlaceAmbiguous = "有 %d 个「%s」，是哪一个？"
	TextPlaceMaybe     = "没有找到「%s」，您是不是要找："
	TextPlacePickHow   = "回复数字选择（比如 1），或回复「设置 村名」重新输入。"
	// TextPlaceTownOnly: a town was named (%s town, %s its villages).
	TextPlaceTownOnly = "%s下面有这些村：%s。请回复「设置 村名」。"
	// TextPlaceHow explains the command.
	TextPlaceHow = "请回复「设置 村名」，如：设置 金家村。"
	// TextPlacesNone: no list of places is configured.
	TextPlacesNone = "管理员还没有配置村镇名单，暂时不能设置。"
	// TextNameSet confirms the name shown (masked) on leaderboards (%s).
	TextNameSet = "已记下您的称呼，排行榜上显示为：%s"
)

// Staff texts: binding, check-ins, tasks.
const (
	TextBindOK        = "绑定成功：%s（%s）。回复「我的任务」看要做的事，回复「帮助」看全部功能。"
	TextBindUnknown   = "绑定码不对，请核对后再发，或请管理员重新生成。"
	TextBindUsed      = "这个绑定码已经用过了，请管理员重新生成一个。"
	TextBindExpired   = "这个绑定码已过期，请管理员重新生成一个。"
	TextBindHow       = "请发送「绑定 六位数字」，绑定码由管理员提供。"
	TextUnbindOK      = "已解除绑定。需要时可用新的绑定码重新绑定。"
	TextNotBound      = "您还没有绑定干部身份。"
	TextStaffOnly     = "这个功能只对已绑定的干部开放。请先发送「绑定 绑定码」（绑定码找管理员要）。"
	TextNoPairings    = "您名下没有结对户。如有出入，请联系管理员更新结对名单。"
	TextVisitListHead = "您结对的户（本月走访情况）："
	TextVisitListFoot = "回复「已走访 序号」或「已走访 户主姓名」记录走访。"
	TextVisitDone     = "已走访 %s"
	TextVisitNotYet   = "本月未走访"
	TextVisitOK       = "已记录：%s 走访 %s。本月结对户已走访 %d/%d 户。"
	TextVisitUnknown  = "您结对的户里没有「%s」。"
	TextPresenceOK    = "已记录今天在村。本月已在村 %d 天（要求每月不少于 20 天）。"
	TextPresenceAgain = "今天已经记录过了。本月已在村 %d 天。"
	TextNotCadre      = "「在村」用于驻村干部、第一书记记录在村天数。"
	TextCloseHow      = "请发送「销号 编号 说明」，如：销号 ZG-001 已补齐档案。"
	TextTaskClosed    = "已销号：%s %s。已通知责任领导。"
	TextTaskWasClosed = "任务 %s 已经销号了。"
	TextTaskUnknown   = "没有编号为 %s 的整改任务。"
	TextTaskNotYours  = "任务 %s 的责任人不是您，不能销号。"
	TextMyTasksNone   = "您现在没有待办事项。"
	TextMyTasksVisits = "本月结对户 %d 户，已走访 %d 户，还没走访：%s"
	// TextMyTasksOverseen is a task a 责任领导 oversees (id, problem,
	// who carries it out, due date, overdue tag).
	TextMyTasksOverseen = "督办任务 %s：%s，责任人 %s，期限 %s%s"
	// TextStaffHelp (name, role) and TextStaffHelpNotice list the
	// commands of bound staff.
	TextStaffHelp       = "%s（%s）还可以用：\n· 「已走访 户主姓名」：记录走访；「已走访」看本月名单\n· 「在村」：记录今天在村\n· 「我的任务」：看本月要做的事和整改任务\n· 「销号 任务编号 说明」：整改任务办结\n· 「解绑」：解除微信绑定"
	TextStaffHelpNotice = "· 「通知 全村帮扶干部：内容」：发通知（先预览，回复「确认发送」才发出；回复「通知」看能发给谁）"
	TextMyTasksPresent  = "本月已在村 %d 天（要求不少于 20 天）。"
	TextMyTasksTask     = "整改任务 %s：%s，期限 %s%s"
	TextOverdueTag      = "（已逾期）"
	// TextTaskClosedNotice tells the 责任领导 (id, problem, who, note).
	TextTaskClosedNotice = "【销号】整改任务 %s（%s）已由 %s 销号。说明：%s"
)

// Reminder texts (see RemindConfig for when each goes out).
const (
	TextRemindVisit      = "【走访提醒】本月还没有记录走访 %s（%s）。走访后请回复「已走访 %s」。"
	TextRemindVisit2     = "【走访再次提醒】本月还没有记录走访 %s（%s），月底前请完成。走访后回复「已走访 %s」。"
	TextEscalateVisits   = "【走访逾期】%s本月还没有走访的结对户：\n%s"
	TextRemindAttendance = "【驻村提醒】本月您已在村 %d 天，照现在的进度到月底约 %d 天，达不到每月不少于 20 天的要求。在村时请回复「在村」记录。"
	TextAttendanceList   = "【驻村情况】%s本月在村天数可能不足 20 天的：\n%s"
	TextRemindDue        = "【整改期限】任务 %s（%s）%s到期（%s）。完成后请回复「销号 %s 说明」。"
	TextOverdueOwner     = "【整改逾期】任务 %s（%s）已超过期限 %s，逾期 %d 天。完成后请回复「销号 %s 说明」。"
	TextOverdueLeader    = "【整改逾期汇总】您负责的以下任务已逾期：\n%s"
)

// Notice texts.
const (
	TextNoticeNone       = "最近 30 天没有发给您的通知。"
	TextNoticeLatestHead = "最近的通知："
	TextNoticeHow        = "请这样发：通知 全村帮扶干部：明天上午九点在村部开会。对象可以是：全村帮扶干部、全村驻村干部、全村干部、本村群众；责任领导还可以发给全镇帮扶干部、全镇驻村干部、全镇干部、全镇群众。"
	TextNoticeNotAllowed = "只有责任领导、第一书记和管理员可以发通知。"
	TextNoticePreview    = "将发给%s（%d 人）：\n%s\n——\n回复「确认发送」发出，回复「取消」作废。"
	TextNoticeNoDraft    = "没有待发送的通知。"
	TextNoticeSent       = "已发出：%d 人收到，%d 人未绑定微信，%d 人已取消关注，%d 人本月群发次数已用完。"
	// TextNoticeWaits: sent inside the quiet hours (%s: when it goes out).
	TextNoticeWaits     = "现在是夜间免打扰时段，这条通知将在 %s 发出。特别紧急的请在管理后台发送并勾选「紧急」。"
	TextNoticePending   = "已提交，需要另一位管理员在管理台批准后发出。"
	TextNoticeCancelled = "已作废。"
)
