"""Findings: what is wrong with a submission, said so the unit can act on it.

Every finding has a stable code (for ops staff, dashboards and tests), a severity (an `error`
refuses the submission; a `warning` accepts it flagged), where it is (sheet and cell), and a
message in Vietnamese with the English alongside.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR, WARNING = "error", "warning"

# code: (severity, Vietnamese, English). Templates take keyword fields.
CATALOGUE: dict[str, tuple[str, str, str]] = {
    "FILE_NOT_XLSX": (ERROR, "Tệp không phải bảng tính Excel .xlsx (nhận được: {detected}). Vui lòng mở biểu mẫu "
                      "và lưu lại dưới dạng Excel Workbook (.xlsx).",
                      "Not an .xlsx workbook (received: {detected}). Save the form as Excel Workbook (.xlsx)."),
    "FILE_UNREADABLE": (ERROR, "Không đọc được tệp: tệp bị hỏng hoặc không đầy đủ ({detail}). Vui lòng gửi lại tệp.",
                        "The file cannot be read: broken or truncated ({detail}). Send the file again."),
    "FILE_ENCRYPTED": (ERROR, "Tệp được đặt mật khẩu. Vui lòng gỡ mật khẩu rồi gửi lại.",
                       "The workbook is password-protected. Remove the password and send it again."),
    "FILE_EMPTY": (ERROR, "Tệp rỗng (0 byte). Vui lòng gửi lại tệp.", "The file is empty (0 bytes). Send it again."),
    "FILE_TOO_LARGE": (ERROR, "Tệp quá lớn ({detail}); biểu mẫu báo cáo chỉ vài trăm KB. Vui lòng gửi đúng biểu mẫu.",
                       "The file is too large ({detail}); a report form is a few hundred KB. Send the form itself."),
    "FILE_SUSPICIOUS": (ERROR, "Tệp có cấu trúc bất thường, không được xử lý vì lý do an toàn ({detail}). Vui lòng "
                        "lưu lại biểu mẫu bằng Excel rồi gửi lại.",
                        "The file has an abnormal structure and was not processed, for safety ({detail}). Save "
                        "the form again in Excel and resend it."),
    "FILE_HAS_MACROS": (ERROR, "Tệp có chứa macro (.xlsm). Vui lòng lưu lại dưới dạng Excel Workbook (.xlsx) không "
                        "có macro.",
                        "The workbook contains macros (.xlsm). Save it as an Excel Workbook (.xlsx) without "
                        "macros."),
    "FORMULA_NOT_COMPUTED": (ERROR, "Ô {cell}: công thức chưa được tính (tệp được tạo bằng phần mềm không lưu kết "
                             "quả). Vui lòng mở tệp bằng Excel hoặc LibreOffice, lưu lại rồi gửi.",
                             "Cell {cell}: the formula has no saved result (the file was written by a program "
                             "that does not compute). Open it in Excel or LibreOffice, save, and resend."),
    "SHEET_MISSING": (ERROR, "Thiếu trang tính '{sheet_name}'. Vui lòng dùng đúng biểu mẫu do thành phố ban hành.",
                      "Sheet '{sheet_name}' is missing. Use the form issued by the city."),
    "COLUMN_MISSING": (ERROR, "Trang '{sheet_name}' không có cột '{column}' trong dòng tiêu đề.",
                       "Sheet '{sheet_name}' has no '{column}' column in its header row."),
    "INFO_MISSING": (ERROR, "Chưa ghi '{label}' ở trang 'Thông tin chung'.",
                     "'{label}' is not filled in on sheet 'Thông tin chung'."),
    "UNIT_UNKNOWN": (ERROR, "Mã đơn vị '{value}' không có trong danh mục đơn vị của thành phố tại ngày {day}.",
                     "Unit code '{value}' is not in the city's unit registry on {day}."),
    "PERIOD_UNKNOWN": (ERROR, "Kỳ báo cáo '{value}' không hợp lệ. Ghi mã kỳ như 2024-H1, 2024-Q3, 2024-Y, 2024-W23 "
                       "hoặc '6 tháng đầu năm 2024'.",
                       "Unknown reporting period '{value}'. Write a code such as 2024-H1, 2024-Q3, 2024-Y, "
                       "2024-W23 or '6 tháng đầu năm 2024'."),
    "NAME_MISMATCH": (ERROR, "Tên tệp '{file_name}' không khớp nội dung ({detail}): có thể đã gửi nhầm tệp. Kiểm "
                      "tra lại mã đơn vị, kỳ báo cáo trong trang 'Thông tin chung' và gửi lại với tên {expected}.",
                      "File name '{file_name}' contradicts the content ({detail}): possibly the wrong file. Check "
                      "the unit and period on sheet 'Thông tin chung' and resend it named {expected}."),
    "FORM_VERSION_UNKNOWN": (ERROR, "Trang '{sheet_name}', ô {cell}: phiên bản mẫu '{value}' không phải biểu mẫu do "
                             "thành phố ban hành (phiên bản hiện hành: {current}). Vui lòng lập báo cáo trên biểu "
                             "mẫu {current} rồi gửi lại.",
                             "Sheet '{sheet_name}', cell {cell}: form version '{value}' is not a form the city issued "
                             "(current version: {current}). Fill in the {current} form and resend."),
    "FORM_OUTDATED": (WARNING, "Trang '{sheet_name}', ô {cell}: báo cáo lập trên biểu mẫu cũ {value}; biểu mẫu hiện "
                      "hành là {current}. Số liệu vẫn được tiếp nhận, nhưng biểu mẫu cũ có thể thiếu chỉ tiêu hoặc "
                      "nhiệm vụ; từ kỳ sau vui lòng dùng biểu mẫu {current}.",
                      "Sheet '{sheet_name}', cell {cell}: the report is on the old form {value}; the current form is "
                      "{current}. The figures are accepted, but an old form may lack indicators or tasks; use "
                      "the {current} form from the next period on."),
    "FORM_VERSION_MISSING": (WARNING, "{where_vi}chưa ghi 'Phiên bản mẫu' nên không biết báo cáo lập trên biểu mẫu "
                             "nào. Số liệu vẫn được đọc theo tên cột; vui lòng dùng biểu mẫu hiện hành {current}, "
                             "không xóa ô phiên bản mẫu.",
                             "{where_en}'Phiên bản mẫu' (form version) is blank, so which form the report is on is "
                             "unknown. The figures were read by their column labels; use the current form "
                             "{current} and keep its version cell."),
    "DATE_INVALID": (ERROR, "Ô {cell}: '{value}' không phải ngày hợp lệ. Ghi ngày dạng 15/06/2024.",
                     "Cell {cell}: '{value}' is not a valid date. Write dates as 15/06/2024."),
    "ASOF_OUTSIDE_PERIOD": (ERROR, "Ngày chốt số liệu {value} nằm ngoài kỳ báo cáo {period} ({start} – {end}).",
                            "The as-of date {value} is outside period {period} ({start} – {end})."),
    "CELL_ERROR_VALUE": (ERROR, "Trang '{sheet_name}', ô {cell}{what_vi}: ô hiển thị lỗi Excel {value} ({meaning_vi}) "
                         "thay vì giá trị. Bảng tính bị lỗi công thức hoặc tham chiếu; ô lỗi không được coi là để "
                         "trống. Vui lòng sửa ô này trong Excel, lưu lại rồi gửi lại.",
                         "Sheet '{sheet_name}', cell {cell}{what_en}: the cell shows the Excel error {value} "
                         "({meaning_en}) instead of a value. The spreadsheet has a broken formula or reference; an "
                         "error is not read as blank. Fix the cell in Excel, save, and resend."),
    "NUMBER_INVALID": (ERROR, "Ô {cell} (chỉ tiêu {indicator}): '{value}' không phải là số. Ghi số, ví dụ 1.150 "
                       "hoặc 25,6.",
                       "Cell {cell} (indicator {indicator}): '{value}' is not a number. Write a number, e.g. "
                       "1.150 or 25,6."),
    "NUMBER_AMBIGUOUS": (WARNING, "Trang '{sheet_name}', ô {cell} (chỉ tiêu {indicator}): '{value}' được gõ dạng "
                         "chữ và đọc được hai cách: {vi_reading} theo cách viết Việt Nam (dấu chấm phân cách hàng "
                         "nghìn) hoặc {en_reading_vi} theo cách viết tiếng Anh (dấu chấm thập phân). Hệ thống ghi "
                         "nhận {vi_reading}. Nếu ý là {en_reading_vi}, vui lòng ghi {en_reading_vi} (dấu phẩy thập "
                         "phân) hoặc nhập dạng số rồi gửi lại.",
                         "Sheet '{sheet_name}', cell {cell} (indicator {indicator}): '{value}' is typed as text and "
                         "reads two ways: {vi_reading} the Vietnamese way (the dot groups thousands) or {en_reading} "
                         "the English way (decimal point). It was recorded as {vi_reading}. If {en_reading} was "
                         "meant, write {en_reading_vi} (decimal comma) or type it as a number, and resend."),
    "INDICATOR_UNKNOWN": (ERROR, "Ô {cell}: mã chỉ tiêu '{value}' không có trong danh mục chỉ tiêu.",
                          "Cell {cell}: indicator code '{value}' is not in the indicator catalogue."),
    "INDICATOR_NOT_FOR_UNIT": (ERROR, "Ô {cell}: chỉ tiêu '{value}' không thuộc phạm vi báo cáo của đơn vị.",
                               "Cell {cell}: indicator '{value}' is not reported by this unit."),
    "INDICATOR_DUPLICATE": (ERROR, "Ô {cell}: chỉ tiêu '{value}' được ghi hai lần (lần đầu ở ô {first}).",
                            "Cell {cell}: indicator '{value}' appears twice (first at {first})."),
    "VALUE_MISSING": (WARNING, "Ô {cell}: chưa ghi số liệu chỉ tiêu '{indicator}' (được coi là chưa báo cáo, "
                      "không phải bằng 0).",
                      "Cell {cell}: no figure for indicator '{indicator}' (counted as not reported, not as zero)."),
    "VALUE_DROPPED": (WARNING, "{where_vi}chỉ tiêu '{indicator}' ({label_vi}) {state_vi}, nhưng bản đã tiếp nhận "
                      "trước đó của đơn vị cho kỳ {period} ghi {previous_vi}. Bản mới thay thế bản cũ nên chỉ tiêu này sẽ "
                      "được tính là chưa báo cáo (không phải bằng 0). Nếu bỏ sót, vui lòng bổ sung và gửi lại.",
                      "{where_en}indicator '{indicator}' ({label_vi}) {state_en}, but the unit's earlier accepted "
                      "version for {period} had {previous}. The new version replaces it, so this figure will count "
                      "as not reported (not as zero). If it was left out by mistake, fill it in and resend."),
    "VALUE_NEGATIVE": (ERROR, "Ô {cell} (chỉ tiêu {indicator}): số liệu {value} bị âm; cần {expected}.",
                       "Cell {cell} (indicator {indicator}): {value} is negative; expected {expected_en}."),
    "VALUE_FRACTIONAL": (ERROR, "Ô {cell} (chỉ tiêu {indicator}): số liệu {value} có phần thập phân; cần {expected}.",
                         "Cell {cell} (indicator {indicator}): {value} is fractional; expected {expected_en}."),
    "VALUE_OUT_OF_RANGE": (ERROR, "Ô {cell} (chỉ tiêu {indicator}): số liệu {value} ngoài khoảng cho phép; cần "
                           "{expected}.",
                           "Cell {cell} (indicator {indicator}): {value} is out of range; expected {expected_en}."),
    "IDENTITY_FAILED": (ERROR, "Số liệu không khớp ({identity}): {label_vi}; vế trái = {left}, vế phải = {right}. "
                        "Các ô: {cells}.",
                        "Figures do not add up ({identity}): {label_en}; left = {left}, right = {right}. "
                        "Cells: {cells}."),
    "CARRYOVER_MISMATCH": (WARNING, "Ô {cell}: {label_vi} ghi {value}, nhưng cuối kỳ trước ({previous}) đơn vị báo "
                           "{expected} đang xử lý. Kiểm tra lại số liệu kỳ này, hoặc gửi bản sửa của kỳ trước nếu "
                           "số liệu đó sai.",
                           "Cell {cell}: {label_en} is {value}, but at the end of the previous period ({previous}) "
                           "the unit reported {expected} in progress. Check this figure, or resend the previous "
                           "period if that one was wrong."),
    "VALUE_OUTLIER": (WARNING, "Ô {cell} (chỉ tiêu {indicator}): số liệu {value} khác xa các kỳ trước của đơn vị "
                      "(trung vị {median} của {n} kỳ; điểm z hiệu chỉnh {score}, ngưỡng {threshold}). Vui lòng kiểm "
                      "tra lại; nếu số liệu đúng thì không cần làm gì.",
                      "Cell {cell} (indicator {indicator}): {value} is far from the unit's own history (median "
                      "{median} of {n} periods; modified z-score {score}, threshold {threshold}). Please check it; "
                      "if it is right, nothing needs doing."),
    "TASK_STATUS_INVALID": (ERROR, "Ô {cell} (nhiệm vụ {task}): tình trạng '{value}' không hợp lệ; chọn Hoàn thành, "
                            "Đang thực hiện hoặc Chưa thực hiện.",
                            "Cell {cell} (task {task}): status '{value}' is not valid; pick Hoàn thành, Đang thực "
                            "hiện or Chưa thực hiện."),
    "TASK_STATUS_BLANK": (WARNING, "Trang '{sheet_name}', ô {cell} (nhiệm vụ {task}): chưa chọn tình trạng; nhiệm vụ "
                          "được tính là chưa báo cáo (không phải 'Chưa thực hiện'). Chọn Hoàn thành, Đang thực hiện "
                          "hoặc Chưa thực hiện rồi gửi lại.",
                          "Sheet '{sheet_name}', cell {cell} (task {task}): no status picked; the task counts as not "
                          "reported (not as 'Chưa thực hiện', not started). Pick Hoàn thành, Đang thực hiện or Chưa "
                          "thực hiện and resend."),
    "TASK_DONE_NO_DATE": (ERROR, "Ô {cell} (nhiệm vụ {task}): nhiệm vụ đã hoàn thành nhưng chưa ghi ngày hoàn thành.",
                          "Cell {cell} (task {task}): marked done but has no completion date."),
    "TASK_DONE_AFTER_ASOF": (ERROR, "Ô {cell} (nhiệm vụ {task}): ngày hoàn thành {value} sau ngày chốt số liệu "
                             "{as_of}.",
                             "Cell {cell} (task {task}): completion date {value} is after the as-of date {as_of}."),
    "TASK_UNKNOWN": (ERROR, "Ô {cell}: mã nhiệm vụ '{value}' không có trong Kế hoạch CCHC của kỳ này.",
                     "Cell {cell}: task code '{value}' is not in this period's reform plan."),
    "TASK_NOT_LED": (ERROR, "Ô {cell}: nhiệm vụ '{value}' do {lead} chủ trì, không phải đơn vị này.",
                     "Cell {cell}: task '{value}' is led by {lead}, not by this unit."),
    "TASK_DUPLICATE": (ERROR, "Ô {cell}: nhiệm vụ '{value}' được ghi hai lần (lần đầu ở ô {first}).",
                       "Cell {cell}: task '{value}' appears twice (first at {first})."),
    "TASK_MISSING": (WARNING, "Thiếu nhiệm vụ '{value}' do đơn vị chủ trì; nhiệm vụ được tính là chưa hoàn thành.",
                     "Task '{value}' led by this unit is missing; it counts as not done."),
}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    sheet: str
    cell: str
    message_vi: str
    message_en: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def finding(code: str, sheet: str = "", cell: str = "", **fields: object) -> Finding:
    severity, vi, en = CATALOGUE[code]
    fields = {"cell": cell, "sheet_name": sheet, **fields}
    return Finding(code, severity, sheet, cell, vi.format(**fields), en.format(**fields))


# What each Excel error value means, for the CELL_ERROR_VALUE message: (Vietnamese, English).
EXCEL_ERRORS: dict[str, tuple[str, str]] = {
    "#REF!": ("tham chiếu tới ô không còn tồn tại", "a reference to a cell that no longer exists"),
    "#VALUE!": ("sai kiểu giá trị trong công thức", "a wrong type of value in a formula"),
    "#DIV/0!": ("chia cho 0", "division by zero"),
    "#N/A": ("không tìm thấy giá trị", "value not available"),
    "#NAME?": ("tên hàm hoặc tên vùng không hợp lệ", "an unknown function or range name"),
    "#NUM!": ("số không hợp lệ", "an invalid number"),
    "#NULL!": ("hai vùng không giao nhau", "ranges that do not intersect"),
    "#SPILL!": ("kết quả mảng bị chặn", "a blocked spill range"),
    "#CALC!": ("lỗi tính toán", "a calculation error"),
    "#GETTING_DATA": ("dữ liệu chưa tải xong", "data still loading"),
    "#FIELD!": ("trường dữ liệu không hợp lệ", "an invalid data field"),
    "#BLOCKED!": ("truy cập bị chặn", "blocked access"),
    "#CONNECT!": ("lỗi kết nối", "a connection error"),
    "#BUSY!": ("đang tính", "still computing"),
    "#UNKNOWN!": ("lỗi không rõ", "an unknown error"),
}


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)
