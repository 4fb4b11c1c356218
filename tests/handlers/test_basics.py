"""The first commands, over real HTTP: /start, /help, /language, /cancel and what nobody handles."""

from __future__ import annotations

from bot.simulator import FakeUser
from tests.harness import RunningBot, texts


async def test_start_speaks_vietnamese_by_default(running: RunningBot) -> None:
    lan = running.person(1001, "Lan", language_code="vi")
    nobody_set = running.person(1002, "Minh", language_code=None)

    assert "Xin chào Lan" in texts(await lan.says("/start"))
    assert "Xin chào Minh" in texts(await nobody_set.says("/start"))


async def test_start_and_help_speak_english_to_english_phones(running: RunningBot) -> None:
    anna = running.person(1003, "Anna", language_code="en-GB")

    assert "Hello Anna! I am the emulation assistant of Phường Tràng Cát" in texts(await anna.says("/start"))
    reply = texts(await anna.says("/help"))
    assert "What you can do here:" in reply
    assert "/language — Choose your language" in reply


async def test_help_lists_only_what_the_caller_may_use(running: RunningBot) -> None:
    lan = running.person(1001, "Lan")

    reply = texts(await lan.says("/help"))

    assert "Những việc anh/chị có thể làm tại đây:" in reply
    assert "/ngonngu (/language) — Chọn ngôn ngữ" in reply  # the Vietnamese word first, the English one kept
    assert "/baocao" not in reply and "/fallback" not in reply


async def test_vietnamese_command_words_work_like_the_english_ones(running: RunningBot) -> None:
    lan = running.person(1001, "Lan")

    assert texts(await lan.says("/trogiup")) == texts(await lan.says("/help"))
    assert "chọn ngôn ngữ" in texts(await lan.says("/ngonngu"))
    assert "không có gì để hủy" in texts(await lan.says("/huy"))
    lan_en = running.person(1002, "Lan", language_code="en")
    assert "/language — Choose your language" in texts(await lan_en.says("/help"))


async def test_language_switch_is_stored_and_survives_a_restart(running: RunningBot) -> None:
    lan = running.person(1001, "Lan", language_code="vi")

    question = await lan.says("/language")
    assert [b.text for row in question[-1].buttons for b in row] == ["🇻🇳 Tiếng Việt", "🇬🇧 English"]
    answer = await lan.presses("🇬🇧 English")
    assert answer[-1].text == "I will speak English with you from now on."
    assert answer[-1].method == "editMessageText"
    assert running.fake.answered_callbacks, "the button press must be answered"

    await running.restart()

    assert "Hello Lan!" in texts(await lan.says("/start"))
    await lan.says("/language")
    assert (await lan.presses("Tiếng Việt"))[-1].text == "Từ giờ tôi sẽ nói tiếng Việt với anh/chị."


async def test_cancel_always_answers(running: RunningBot) -> None:
    lan = running.person(1001, "Lan")

    assert "không có gì để hủy" in texts(await lan.says("/cancel"))


async def test_unknown_input_gets_a_way_forward(running: RunningBot) -> None:
    lan = running.person(1001, "Lan")

    assert "Tôi không biết lệnh này. Gửi /help" in texts(await lan.says("/nonsense"))
    assert "Tôi chưa hiểu ý anh/chị" in texts(await lan.says("xin chào"))
    assert "chỉ đọc được tin nhắn chữ" in texts(await lan.says(None, kind="sticker"))
    assert "chỉ đọc được tin nhắn chữ" in texts(await lan.says(None, kind="voice"))
    assert "Tôi chưa hiểu ý anh/chị" in texts(await lan.says("x" * 4096))


async def test_group_chatter_is_ignored_but_commands_answered(running: RunningBot) -> None:
    lan_in_group = running.person(1001, "Lan").in_group(-500, "Tổ dân phố số 1")

    assert await lan_in_group.says("chào cả nhà", replies=0) == []
    assert "Xin chào Lan" in texts(await lan_in_group.says("/start@ward_test_bot"))


async def test_a_redelivered_update_has_no_second_effect(running: RunningBot) -> None:
    fake = running.fake
    lan = FakeUser(id=1001, first_name="Lan", language_code="vi")
    update = fake.push_message(lan, "/start")
    await fake.wait_for(1, chat_id=1001)
    await fake.wait_idle()
    count = len(fake.messages_to(1001))

    fake.push_raw(update)
    await fake.wait_idle()

    assert len(fake.messages_to(1001)) == count


async def test_commands_are_published_in_both_languages(running: RunningBot) -> None:
    commands = running.fake.commands
    private_vi = {c["command"]: c["description"] for c in commands[("all_private_chats", "vi")]}
    private_en = {c["command"]: c["description"] for c in commands[("all_private_chats", "en")]}
    default = {c["command"]: c["description"] for c in commands[("all_private_chats", None)]}

    assert private_vi["ngonngu"] == "Chọn ngôn ngữ"  # Vietnamese menus show the Vietnamese words
    assert private_en["language"] == "Choose your language"
    assert "language" not in private_vi and "ngonngu" not in private_en
    assert default == private_vi
    assert ("all_group_chats", "en") in commands


async def test_a_busy_or_failing_bot_api_still_gets_the_answer_out(running: RunningBot) -> None:
    lan = running.person(1001, "Lan")
    running.fake.fail_next("sendMessage", 429, retry_after=1)
    running.fake.fail_next("sendMessage", 502)

    assert "Xin chào Lan" in texts(await lan.says("/start"))
    assert running.fake.too_many_requests == 1
