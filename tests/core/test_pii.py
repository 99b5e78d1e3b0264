import pytest

from core.pii import mask_pii


@pytest.mark.parametrize(
    ("raw", "hidden", "kept"),
    [
        ("身份证430602199001011234请查", "19900101", "430"),
        ("身份证43060219900101123X", "19900101", "123X"),
        ("手机13812345678", "1234", "5678"),
        ("电话 +86 138-1234-5678 回电", "1234", "138"),
        ("卡号6222021234567890123", "021234567", "6222"),
        ("卡号 6228 4804 0256 4890 018", "0402", "6228"),
    ],
)
def test_masks_personal_numbers(raw: str, hidden: str, kept: str) -> None:
    masked = mask_pii(raw)
    assert hidden not in masked.replace(" ", "").replace("-", "")
    assert kept in masked
    assert "*" in masked


@pytest.mark.parametrize("text", ["拨打0730-12345", "2026年11月27日", "承诺2个工作日", "12345热线"])
def test_leaves_ordinary_numbers(text: str) -> None:
    assert mask_pii(text) == text
