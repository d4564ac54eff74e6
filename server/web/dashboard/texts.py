"""Every string of the dashboard and administration pages, Thai first and English beside it. Templates
call `t("key")`; a key not here falls back to the web app's catalog (server.web.texts), and a key in
neither is an error in tests/dashboard, never a blank on a manager's screen."""

from __future__ import annotations

from collections.abc import Callable

from common.vocabulary import Lang
from server.web.texts import TEXTS as WEB_TEXTS
from server.web.texts import pick

TEXTS: dict[str, tuple[str, str]] = {
    # navigation
    "nav_dashboard": ("ภาพรวม", "Dashboard"),
    "tab_today": ("วันนี้", "Today"),
    "tab_period": ("รายวัน/ช่วงวันที่", "Day or dates"),
    "tab_quarter": ("รายงานรายไตรมาส", "Quarterly report"),
    "tab_office": ("ตั้งค่าสำนักงาน", "Office settings"),
    "tab_devices": ("อุปกรณ์", "Devices"),
    "tab_users": ("ผู้ใช้", "Users"),
    # today
    "today_title": ("สถานการณ์วันนี้", "Today"),
    "today_as_of": ("ข้อมูล ณ {time} น.", "As of {time}"),
    "live_updated": ("อัปเดต {time} น.", "Updated {time}"),
    "live_offline": ("ขาดการติดต่อกับเครื่องแม่ข่าย กำลังลองใหม่", "Lost contact with the server, retrying"),
    "waiting_now": ("รออยู่ขณะนี้", "Waiting now"),
    "served_today": ("ให้บริการแล้ว", "Served"),
    "issued_today": ("ออกบัตรคิว", "Tickets issued"),
    "no_show_today": ("ไม่มาตามเรียก", "No-show"),
    "mean_wait_now": ("รอเฉลี่ยขณะนี้", "Mean wait now"),
    "longest_wait_now": ("รอนานที่สุดขณะนี้", "Longest wait now"),
    "counters_open": ("ช่องบริการที่เปิด", "Counters open"),
    "satisfaction_today": ("ความพึงพอใจวันนี้", "Satisfaction today"),
    "n_of_m": ("{n} จาก {m}", "{n} of {m}"),
    "minutes_short": ("{n} นาที", "{n} min"),
    "hours_short": ("{n} ชม.", "{n} h"),
    "days_short": ("{n} วัน", "{n} days"),
    "day_one": ("1 วัน", "1 day"),
    "due_past": ("ครบกำหนดไปแล้ว {n} วัน", "Days since it was due: {n}"),
    "respondents_n": ("ผู้ตอบ {n} คน", "Respondents: {n}"),
    "no_answers_yet": ("ยังไม่มีผู้ตอบ", "No answers yet"),
    "waiting_by_service": ("คิวที่รอ แยกตามงานบริการ", "Waiting, by service"),
    "nobody_waiting": ("ไม่มีคิวรอ", "Nobody is waiting"),
    "col_waiting": ("รอ", "Waiting"),
    "col_longest": ("รอนานสุด (นาที)", "Longest (min)"),
    "col_mean_wait": ("รอเฉลี่ย (นาที)", "Mean wait (min)"),
    "counters_title": ("ช่องบริการ", "Counters"),
    "col_counter": ("ช่องบริการ", "Counter"),
    "col_state": ("สถานะ", "State"),
    "col_staff": ("เจ้าหน้าที่", "Staff"),
    "col_now_serving": ("คิวปัจจุบัน", "Current ticket"),
    "counter_open": ("เปิด", "Open"),
    "counter_closed": ("ปิด", "Closed"),
    "devices_title": ("อุปกรณ์", "Devices"),
    "col_device": ("อุปกรณ์", "Device"),
    "col_role": ("ประเภท", "Role"),
    "col_online": ("การเชื่อมต่อ", "Connection"),
    "col_printer": ("เครื่องพิมพ์", "Printer"),
    "col_last_seen": ("ติดต่อล่าสุด", "Last seen"),
    "col_outbox": ("รายการค้างส่ง", "Unsent"),
    "online": ("ออนไลน์", "Online"),
    "offline": ("ออฟไลน์", "Offline"),
    "never_seen": ("ยังไม่เคยเชื่อมต่อ", "Never connected"),
    "no_devices": ("ยังไม่มีอุปกรณ์", "No devices yet"),
    "devices_offline_n": ("อุปกรณ์ออฟไลน์ {n} เครื่อง", "Devices offline: {n}"),
    "printer_problem_n": ("เครื่องพิมพ์มีปัญหา {n} เครื่อง", "Printers needing attention: {n}"),
    "overdue_cases_n": ("เรื่องส่งต่อเกินกำหนด {n} เรื่อง", "Forwarded cases overdue: {n}"),
    "disk_low": (
        "ดิสก์ของเซิร์ฟเวอร์ใกล้เต็ม เหลือว่าง {free} GB จาก {total} GB ({folder}): ถ้าเต็มจะออกบัตรคิวไม่ได้",
        "The server's disk is nearly full, {free} GB free of {total} GB ({folder}): when it is full, "
        "no ticket can be issued",
    ),
    "broker_lost": (
        "เครื่องแม่ข่ายติดต่อระบบรับส่งข้อความ (MQTT) ไม่ได้ ตั้งแต่ {when}: ตู้กดบัตรคิวออกบัตรแบบออฟไลน์ "
        "จอแสดงคิวและเครื่องเรียกคิวไม่ได้รับข้อมูล สถานะอุปกรณ์ด้านล่างเป็นข้อมูลก่อนหน้านั้น",
        "The server has not reached the message broker (MQTT) since {when}: kiosks issue offline tickets, "
        "and boards and counter terminals get no updates; the devices below are as they were then",
    ),
    "backup_failed": ("สำรองข้อมูลไม่สำเร็จ ({when})", "The backup failed ({when})"),
    "backup_overdue": (
        "สำรองข้อมูลครั้งล่าสุดเมื่อ {when}: ควรสำรองทุกคืน",
        "The last backup was made {when}: there should be one every night",
    ),
    "backup_none": (
        "ไม่มีการสำรองข้อมูลตั้งแต่ {when}: ควรสำรองทุกคืน",
        "No backup made since {when}: there should be one every night",
    ),
    "clock_set": (
        "นาฬิกาของเครื่องแม่ข่ายถูกปรับ{direction} {by} เมื่อ {when} (ก่อนหน้านั้นแสดง {was}): "
        "เวลาของบัตรคิวก่อนหน้านั้นอาจคลาดเคลื่อน ควรให้เครื่องตั้งเวลาอัตโนมัติ",
        "The server's clock was set {direction} by {by} at {when} (it read {was}): the times of tickets "
        "before then may be wrong; the server should set its clock automatically",
    ),
    "clock_buddhist_era": (
        "(ต่างกัน 543 ปี: ปีถูกตั้งเป็นพุทธศักราช นาฬิกาของเครื่องต้องตั้งปีเป็นคริสต์ศักราช)",
        "(543 years apart: the year was typed in the Buddhist Era; the system clock takes the year in the "
        "Common Era)",
    ),
    "clock_year_buddhist": (
        "นาฬิกาของเครื่องแม่ข่ายตั้งปีเป็น ค.ศ. {year} ซึ่งเป็นเลขปีพุทธศักราช: วันที่ของบัตรคิว รายงาน "
        "และแบบประเมินผิดทั้งหมด ให้ตั้งปีของนาฬิกาเป็น ค.ศ. {right}",
        "The server's clock reads the year {year}, a Buddhist Era year where the Common Era's belongs: "
        "every ticket, report and survey is dated wrong. Set the clock's year to {right}",
    ),
    "clock_year_early": (
        "นาฬิกาของเครื่องแม่ข่ายแสดงปี ค.ศ. {year} ซึ่งยังไม่มีระบบนี้: วันที่ของบัตรคิว รายงาน "
        "และแบบประเมินผิดทั้งหมด ให้ตั้งนาฬิกาให้ถูกต้อง",
        "The server's clock reads the year {year}, before this system existed: every ticket, report and "
        "survey is dated wrong. Set the clock right",
    ),
    "server_duplicate": (
        "มีเซิร์ฟเวอร์ Khiu อีกตัว (รุ่น {version}) ใช้โบรกเกอร์ของสำนักงานด้วยบัญชีของเครื่องแม่ข่าย (ตั้งแต่ {when}) "
        "ตู้กดบัตรคิวอาจได้หมายเลขจากเซิร์ฟเวอร์นั้น ซึ่งเก็บไว้ในฐานข้อมูลของตัวเอง ให้หยุดเซิร์ฟเวอร์ตัวนั้น "
        "หรือให้ใช้โบรกเกอร์ของตัวเอง",
        "Another Khiu server (version {version}) is using the office's broker with the server's account "
        "(since {when}). Kiosks may get numbers from it, kept in a database of its own. Stop that server, "
        "or give it a broker of its own",
    ),
    "device_shared": (
        "มีมากกว่าหนึ่งเครื่องเชื่อมต่อด้วยชื่ออุปกรณ์ {device} (คัดลอกการ์ด SD หรือไฟล์ตั้งค่ามาหรือไม่): "
        "เครื่องหนึ่งต่อเข้ามาอีกเครื่องก็หลุด และคำตอบอาจไปถึงผิดเครื่อง ให้ลงทะเบียนแต่ละเครื่องด้วยชื่อของตัวเอง "
        "(khiu admin device add)",
        "More than one machine is connecting as {device} (a copied SD card or settings file?): each one's "
        "connection drops the other's, and a reply may reach the wrong one. Register each machine under a "
        "device id of its own (khiu admin device add)",
    ),
    "clock_steps_today": ("(วันนี้ปรับแล้ว {n} ครั้ง)", "({n} times today)"),
    "clock_forward": ("ไปข้างหน้า", "forward"),
    "clock_back": ("ย้อนหลัง", "back"),
    "see_today_report": ("ดูรายงานละเอียดของวันนี้", "Today's full report"),
    "hour_chart_today": ("บัตรคิวตามช่วงเวลา วันนี้", "Tickets by hour, today"),
    # printer states
    "printer_ok": ("ปกติ", "OK"),
    "printer_no_paper": ("กระดาษหมด", "Out of paper"),
    "printer_paper_low": ("กระดาษใกล้หมด", "Paper low"),
    "printer_cover_open": ("ฝาเปิด", "Cover open"),
    "printer_offline": ("ไม่ตอบสนอง", "Not answering"),
    "printer_unknown": ("ไม่ทราบสถานะ", "Unknown"),
    "printer_none": ("ไม่มีเครื่องพิมพ์", "No printer"),
    # device roles
    "device_kiosk": ("ตู้กดบัตรคิว", "Kiosk"),
    "device_display": ("จอแสดงคิว", "Display"),
    "device_counter": ("เครื่องประจำช่องบริการ", "Counter terminal"),
    "device_survey": ("เครื่องประเมินความพึงพอใจ", "Survey tablet"),
    "device_server": ("เครื่องแม่ข่าย", "Server"),
    # period
    "period_title": ("รายงานรายวันและช่วงวันที่", "Report of a day or dates"),
    "period_from": ("ตั้งแต่วันที่", "From"),
    "period_to": ("ถึงวันที่", "To"),
    "show": ("แสดง", "Show"),
    "quick_today": ("วันนี้", "Today"),
    "quick_yesterday": ("เมื่อวาน", "Yesterday"),
    "quick_7_days": ("7 วันล่าสุด", "Last 7 days"),
    "quick_month": ("เดือนนี้", "This month"),
    "bad_dates": (
        "วันที่ไม่ถูกต้อง: วันเริ่มต้องไม่หลังวันสิ้นสุด และช่วงยาวไม่เกิน {days} วัน",
        "Check the dates: the first may not be after the last, and at most {days} days.",
    ),
    "summary": ("สรุป", "Summary"),
    "issued": ("ออกบัตรคิว", "Issued"),
    "served": ("ให้บริการแล้ว", "Served"),
    "no_show": ("ไม่มาตามเรียก", "No-show"),
    "cancelled": ("ยกเลิก", "Cancelled"),
    "in_queue": ("ยังอยู่ในคิว", "Still in queue"),
    "no_show_rate": ("อัตราไม่มาตามเรียก", "No-show rate"),
    "within_standard": ("ภายในเวลามาตรฐาน", "Within standard time"),
    "within_standard_hint": (
        "สัดส่วนของผู้รับบริการที่เสร็จที่สำนักงานหรือผ่านแอปทางรัฐภายในเวลามาตรฐานของงาน (นับจากรับบัตรคิวถึงเสร็จ)",
        "Share of those served here or in the Tang Rat app within the service's standard time "
        "(from ticket to completion)",
    ),
    "wait_time": ("เวลารอ", "Wait"),
    "service_time": ("เวลาให้บริการ", "Service time"),
    "mean": ("เฉลี่ย", "Mean"),
    "median": ("มัธยฐาน", "Median"),
    "p90": ("P90", "90th pct"),
    "p90_hint": ("90% ของผู้รับบริการรอไม่เกินเวลานี้", "90% waited no longer than this"),
    "minutes_unit": ("นาที", "min"),
    "by_service": ("แยกตามงานบริการ", "By service"),
    "by_group": ("แยกตามกลุ่มงานบริการ", "By service group"),
    "by_kind": ("แยกตามประเภทการให้บริการ", "By kind of service"),
    "by_counter": ("แยกตามช่องบริการ", "By counter"),
    "by_hour": ("แยกตามช่วงเวลาที่รับบัตรคิว", "By hour of issue"),
    "by_day": ("แยกรายวัน", "By day"),
    "by_priority": ("แยกตามกลุ่มผู้รับบริการ", "By priority"),
    "outcomes": ("ผลการให้บริการ", "Outcomes"),
    "outcome_completed": ("เสร็จ ณ อปท.", "Completed at the office"),
    "outcome_forwarded": ("รับเรื่องส่งต่อหน่วยงาน", "Forwarded to the agency"),
    "outcome_via_app": ("ผ่านแอปทางรัฐ", "Done in the Tang Rat app"),
    "outcome_advice": ("ให้คำแนะนำ/ข้อมูล", "Advice only"),
    "col_name": ("ชื่อ", "Name"),
    "col_issued": ("ออกบัตร", "Issued"),
    "col_served": ("ให้บริการ", "Served"),
    "col_no_show": ("ไม่มา", "No-show"),
    "col_wait_mean": ("รอเฉลี่ย", "Mean wait"),
    "col_wait_median": ("รอ มัธยฐาน", "Median wait"),
    "col_wait_p90": ("รอ P90", "90th pct wait"),
    "col_service_mean": ("ให้บริการเฉลี่ย", "Mean service"),
    "col_within": ("ภายในเวลามาตรฐาน", "Within standard"),
    "col_standard": ("เวลามาตรฐาน", "Standard time"),
    "col_total": ("รวม", "Total"),
    "col_share": ("ร้อยละ", "Share"),
    "minutes_note": ("เวลาเป็นนาที", "Times in minutes"),
    "satisfaction": ("ความพึงพอใจ", "Satisfaction"),
    "satisfaction_overall": ("ความพึงพอใจโดยรวม", "Overall satisfaction"),
    "percent_satisfaction": ("ร้อยละความพึงพอใจ", "Percent satisfaction"),
    "percent_hint": (
        "ร้อยละความพึงพอใจ = คะแนนเฉลี่ย ÷ 5 × 100 (คำนวณจากค่าเฉลี่ยที่ยังไม่ปัดเศษ)",
        "Percent satisfaction = mean score ÷ 5 × 100 (from the unrounded mean)",
    ),
    "responses_n": ("ผู้ตอบแบบประเมิน {n} คน", "Responses: {n}"),
    "col_item": ("ข้อคำถาม", "Statement"),
    "col_respondents": ("ผู้ตอบ", "Respondents"),
    "col_answers": ("คำตอบ", "Answers"),
    "col_mean_score": ("คะแนนเฉลี่ย", "Mean"),
    "col_percent": ("ร้อยละ", "Percent"),
    "col_level": ("ระดับ", "Level"),
    "level_5": ("มากที่สุด", "Very high"),
    "level_4": ("มาก", "High"),
    "level_3": ("ปานกลาง", "Moderate"),
    "level_2": ("น้อย", "Low"),
    "level_1": ("น้อยที่สุด", "Very low"),
    "cases_title": ("เรื่องที่รับและส่งต่อหน่วยงาน", "Forwarded cases"),
    "cases_forwarded": ("ส่งต่อ", "Forwarded"),
    "cases_closed_on_time": ("เสร็จทันกำหนด", "Done on time"),
    "cases_closed_late": ("เสร็จเกินกำหนด", "Done late"),
    "cases_open_not_due": ("ยังไม่ถึงกำหนด", "Open, not yet due"),
    "cases_open_overdue": ("ค้างเกินกำหนด", "Open, overdue"),
    "late_cases": ("เรื่องที่เกินกำหนด", "Late cases"),
    "col_reference": ("เลขอ้างอิง", "Reference"),
    "col_service": ("งานบริการ", "Service"),
    "col_opened": ("วันที่ส่ง", "Sent"),
    "col_due": ("กำหนดเสร็จ", "Due"),
    "col_closed": ("วันที่เสร็จ", "Done"),
    "col_days_late": ("เกิน (วัน)", "Days late"),
    "col_status": ("สถานะ", "Status"),
    "still_open": ("ยังไม่เสร็จ", "Still open"),
    "more_late_cases": ("และอีก {n} เรื่อง (ดูในไฟล์ส่งออก)", "and {n} more (see the export)"),
    "nothing_in_period": ("ไม่มีบัตรคิวในช่วงนี้", "No tickets in this period"),
    "notes": ("หมายเหตุ", "Notes"),
    "as_of_report": ("ข้อมูล ณ วันที่ {date}", "Figures as of {date}"),
    # quarter
    "quarter_title": ("รายงานการให้บริการของศูนย์ OSS รายไตรมาส", "Quarterly OSS service report"),
    "fiscal_year": ("ปีงบประมาณ พ.ศ.", "Fiscal year (B.E.)"),
    "quarter": ("ไตรมาส", "Quarter"),
    "quarter_n": ("ไตรมาสที่ {n}", "Q{n}"),
    "quarter_months_1": ("ต.ค. - ธ.ค.", "Oct - Dec"),
    "quarter_months_2": ("ม.ค. - มี.ค.", "Jan - Mar"),
    "quarter_months_3": ("เม.ย. - มิ.ย.", "Apr - Jun"),
    "quarter_months_4": ("ก.ค. - ก.ย.", "Jul - Sep"),
    "due_lao": ("ส่งสำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด ภายใน", "Send to the provincial DLA office by"),
    "due_province": ("จังหวัดรับรองส่งกรมส่งเสริมการปกครองท้องถิ่น ภายใน", "The province certifies to DLA by"),
    "days_left": ("เหลืออีก {n} วัน", "Days left: {n}"),
    "due_today": ("ครบกำหนดวันนี้", "Due today"),
    "overdue_by": ("เลยกำหนดมาแล้ว {n} วัน", "Days overdue: {n}"),
    "quarter_running": (
        "ไตรมาสนี้ยังไม่สิ้นสุด ตัวเลขจะเปลี่ยนไปจนถึงวันสุดท้ายของไตรมาส",
        "This quarter is not over: the figures change until its last day.",
    ),
    "quarter_future": ("ไตรมาสนี้ยังไม่เริ่ม", "This quarter has not started yet."),
    "report_via_info": (
        "ส่งข้อมูลผ่านระบบ INFO ของกรมส่งเสริมการปกครองท้องถิ่น แบบรายงานการให้บริการของศูนย์ OSS ของ อปท.",
        "File it through DLA's INFO system, form \u201cService report of the OSS centre of the LAO\u201d.",
    ),
    # exports
    "export": ("ส่งออกรายงาน", "Export"),
    "export_xlsx": ("Excel (XLSX)", "Excel (XLSX)"),
    "export_pdf": ("PDF", "PDF"),
    "export_csv": ("CSV (zip)", "CSV (zip)"),
    "export_title": ("กำลังจัดทำไฟล์รายงาน", "Preparing the report file"),
    "export_running": ("กำลังจัดทำ {percent}%", "Working: {percent}%"),
    "rate_of": ("อัตรา {value}", "rate {value}"),
    "mean_wait_today": ("รอเฉลี่ยทั้งวัน {n} นาที", "Today's mean wait {n} min"),
    "export_done": ("ไฟล์พร้อมแล้ว", "The file is ready"),
    "export_failed": (
        "จัดทำไฟล์ไม่สำเร็จ กรุณาลองใหม่ หากยังไม่ได้ แจ้งผู้ดูแลระบบ (รายละเอียดอยู่ในบันทึกของเครื่องแม่ข่าย)",
        "The file could not be made. Try again; if it fails again, tell the administrator (details are in "
        "the server log).",
    ),
    "export_unknown": (
        "ไม่พบงานส่งออกนี้ (ไฟล์เก็บไว้ 1 ชั่วโมง) กรุณาสั่งส่งออกใหม่",
        "This export is gone (files are kept for an hour): export again.",
    ),
    "download_file": ("ดาวน์โหลดไฟล์", "Download the file"),
    "back_to_report": ("กลับไปที่รายงาน", "Back to the report"),
    "export_no_js": (
        "หน้านี้จะโหลดใหม่เองทุก 2 วินาทีจนไฟล์พร้อม",
        "This page reloads itself every 2 seconds until the file is ready.",
    ),
    "too_many_exports": (
        "มีงานส่งออกกำลังทำอยู่หลายงาน กรุณารอสักครู่แล้วลองใหม่",
        "Several exports are running: wait a moment and try again.",
    ),
    # admin: office file
    "office_title": ("ตั้งค่าสำนักงาน", "Office settings"),
    "office_file": ("ไฟล์ตั้งค่า", "Settings file"),
    "office_file_intro": (
        "การแก้ไขทุกครั้งตรวจด้วยกฎเดียวกับตอนเริ่มเครื่องแม่ข่าย ถ้ามีข้อผิดพลาดจะไม่บันทึก "
        "ไฟล์เดิมจะเก็บสำรองไว้ข้างกัน (.bak) ทุกครั้งที่บันทึก",
        "Every change is checked by the same rules as at server start; nothing is saved when a check "
        "fails. The previous file is kept beside it (.bak) at every save.",
    ),
    "office_readonly": (
        "แก้ไขจากหน้านี้ไม่ได้: {reason}",
        "Editing here is off: {reason}",
    ),
    "readonly_example": (
        "เครื่องแม่ข่ายใช้ไฟล์ตัวอย่างที่มากับโปรแกรม ให้คัดลอกเป็นไฟล์ของสำนักงาน (office.toml) แล้วเริ่มเครื่องแม่ข่ายด้วยไฟล์นั้น",
        "the server runs on the shipped example file: copy it to the office's own file (office.toml) "
        "and start the server with it",
    ),
    "readonly_unknown": (
        "ไม่ทราบว่าเครื่องแม่ข่ายอ่านการตั้งค่าจากไฟล์ใด ให้กำหนด KHIU_CONFIG",
        "it is not known which file the server read its settings from: set KHIU_CONFIG",
    ),
    "readonly_differs": (
        "ไฟล์ {path} ไม่ตรงกับการตั้งค่าที่เครื่องแม่ข่ายใช้อยู่ (อาจถูกแก้ไขภายนอก) ให้เริ่มเครื่องแม่ข่ายใหม่ก่อน",
        "the file {path} differs from the settings the server runs with (edited elsewhere?): restart the "
        "server first",
    ),
    "readonly_unreadable": ("อ่านไฟล์ {path} ไม่ได้", "the file {path} cannot be read"),
    "restart_needed": (
        "บันทึกแล้ว การเปลี่ยนแปลงจะมีผลเมื่อเริ่มเครื่องแม่ข่ายใหม่ (khiu server)",
        "Saved. The change takes effect when the server restarts (khiu server).",
    ),
    "pending_restart": (
        "มีการแก้ไขที่บันทึกแล้วแต่ยังไม่มีผล: เริ่มเครื่องแม่ข่ายใหม่เพื่อใช้การตั้งค่าใหม่",
        "Saved changes are waiting: restart the server to use them.",
    ),
    "not_saved": ("ไม่ได้บันทึก: พบข้อผิดพลาด", "Not saved: the settings have problems"),
    "problems_hint": (
        "แต่ละบรรทัดบอกตำแหน่งในไฟล์ตั้งค่า (เช่น services[4].prefix คือช่องอักษรนำหน้าของงานบริการลำดับที่ 5) และสิ่งที่ต้องแก้",
        "Each line names the place in the settings file (services[4].prefix is the prefix of the fifth "
        "service) and what to change.",
    ),
    "services_title": ("งานบริการ", "Services"),
    "counters_admin_title": ("ช่องบริการ", "Counters"),
    "survey_title": ("ข้อคำถามแบบประเมินความพึงพอใจ", "Survey questions"),
    "edit": ("แก้ไข", "Edit"),
    "add_service": ("เพิ่มงานบริการ", "Add a service"),
    "add_counter": ("เพิ่มช่องบริการ", "Add a counter"),
    "add_item": ("เพิ่มข้อคำถาม", "Add a statement"),
    "save": ("บันทึก", "Save"),
    "cancel": ("ยกเลิก", "Cancel"),
    "remove": ("ลบ", "Remove"),
    "confirm_remove": ("ยืนยันการลบ {name}?", "Remove {name}?"),
    "edit_service": ("แก้ไขงานบริการ", "Edit service"),
    "new_service": ("งานบริการใหม่", "New service"),
    "edit_counter": ("แก้ไขช่องบริการ", "Edit counter"),
    "new_counter": ("ช่องบริการใหม่", "New counter"),
    "edit_item": ("แก้ไขข้อคำถาม", "Edit statement"),
    "new_item": ("ข้อคำถามใหม่", "New statement"),
    "field_code": ("รหัสงาน (a-z 0-9 - _)", "Code (a-z 0-9 - _)"),
    "field_name_th": ("ชื่อภาษาไทย", "Name in Thai"),
    "field_name_en": ("ชื่อภาษาอังกฤษ", "Name in English"),
    "field_group": ("กลุ่มงานบริการ", "Group"),
    "field_kind": ("ประเภทการให้บริการ", "Kind"),
    "field_prefix": ("อักษรนำหน้าบัตรคิว (A-Z)", "Ticket prefix (A-Z)"),
    "field_agency_th": ("หน่วยงานเจ้าของเรื่อง (ไทย)", "Owning agency (Thai)"),
    "field_agency_en": ("หน่วยงานเจ้าของเรื่อง (อังกฤษ)", "Owning agency (English)"),
    "field_standard_minutes": ("เวลามาตรฐาน (นาที, 1 วัน = 1440)", "Standard time (minutes, 1 day = 1440)"),
    "field_enabled": ("เปิดให้รับบัตรคิว", "Offered at the kiosk"),
    "field_daily_cap": ("จำนวนบัตรคิวสูงสุดต่อวัน (เว้นว่าง = ไม่จำกัด)", "Most tickets a day (empty: no cap)"),
    "field_documents_th": ("เอกสารที่ต้องใช้ (ไทย) บรรทัดละรายการ", "Documents (Thai), one per line"),
    "field_documents_en": ("เอกสารที่ต้องใช้ (อังกฤษ) บรรทัดละรายการ", "Documents (English), one per line"),
    "field_counter_id": ("รหัสช่อง (a-z 0-9 -)", "Counter id (a-z 0-9 -)"),
    "field_number": ("หมายเลขช่อง (ที่ประกาศเรียก)", "Number (announced)"),
    "field_services": ("งานบริการที่ช่องนี้เรียก", "Services this counter calls"),
    "field_item_id": ("รหัสข้อ (เช่น staff.polite)", "Item id (e.g. staff.polite)"),
    "field_text_th": ("ข้อความภาษาไทย", "Statement in Thai"),
    "field_text_en": ("ข้อความภาษาอังกฤษ", "Statement in English"),
    "field_section": ("ด้าน", "Section"),
    "col_code": ("รหัส", "Code"),
    "col_prefix": ("อักษร", "Prefix"),
    "col_group": ("กลุ่ม", "Group"),
    "col_kind": ("ประเภท", "Kind"),
    "col_enabled": ("เปิดใช้", "Offered"),
    "col_number": ("หมายเลข", "Number"),
    "col_services": ("งานบริการ", "Services"),
    "col_id": ("รหัส", "Id"),
    "yes": ("ใช่", "Yes"),
    "no": ("ไม่", "No"),
    "view_file": ("ดูไฟล์ตั้งค่าทั้งไฟล์", "View the whole file"),
    "file_title": ("ไฟล์ตั้งค่าสำนักงาน", "The office settings file"),
    "file_edit_hint": (
        "แก้ไขได้ทั้งไฟล์ (รูปแบบ TOML) ระบบจะตรวจก่อนบันทึก และคำอธิบาย (#) ที่พิมพ์ไว้จะถูกเก็บไว้ตามเดิม",
        "Edit the whole file (TOML); it is checked before it is saved, and your comments (#) are kept.",
    ),
    "form_edits_drop_comments": (
        "หมายเหตุ: การบันทึกจากแบบฟอร์มจะเขียนไฟล์ใหม่ทั้งไฟล์ คำอธิบาย (#) ในไฟล์จะหายไป (ไฟล์เดิมเก็บไว้ที่ .bak)",
        "Note: saving a form rewrites the whole file without its comments (#); the previous file is kept "
        "as .bak.",
    ),
    "unknown_entry": ("ไม่พบรายการนี้ในไฟล์ตั้งค่า", "This entry is not in the settings file."),
    # admin: devices
    "devices_admin_title": ("อุปกรณ์และรหัสผ่านสำหรับเชื่อมต่อ", "Devices and their connection passwords"),
    "devices_admin_intro": (
        "อุปกรณ์ทุกเครื่องเชื่อมต่อ MQTT ด้วยรหัสผ่านของตัวเอง เพิ่ม ออกรหัสผ่านใหม่ หรือลบได้ที่นี่ (เหมือนคำสั่ง khiu admin device)",
        "Every device logs in to MQTT with its own password. Add, rotate or remove them here (the same as "
        "`khiu admin device`).",
    ),
    "registered": ("ลงทะเบียนแล้ว", "Registered"),
    "col_registration": ("การลงทะเบียน", "Registration"),
    "register": ("ลงทะเบียน", "Register"),
    "not_registered": ("ยังไม่ได้ลงทะเบียน", "Not registered"),
    "in_office_file": ("อยู่ในไฟล์ตั้งค่า", "In the office file"),
    "add_device": ("เพิ่มอุปกรณ์", "Add a device"),
    "field_device_id": ("รหัสอุปกรณ์ (a-z 0-9 -)", "Device id (a-z 0-9 -)"),
    "field_role": ("ประเภท", "Role"),
    "field_counter": ("ช่องบริการ (เฉพาะเครื่องประจำช่อง)", "Counter (counter terminals)"),
    "rotate": ("ออกรหัสผ่านใหม่", "New password"),
    "confirm_rotate": (
        "ออกรหัสผ่านใหม่ให้ {name}? รหัสเดิมจะใช้ไม่ได้ทันที",
        "Give {name} a new password? The old one stops working at once.",
    ),
    "confirm_remove_device": (
        "ลบ {name}? อุปกรณ์นี้จะเชื่อมต่อไม่ได้อีก",
        "Remove {name}? It will no longer be able to log in.",
    ),
    "settings_once": ("ค่าการเชื่อมต่อของ {name}", "Connection settings of {name}"),
    "settings_once_hint": (
        "คัดลอกไปไว้ที่อุปกรณ์เดี๋ยวนี้ รหัสผ่านจะไม่แสดงอีก",
        "Copy this to the device now: the password is not shown again.",
    ),
    "device_added": ("ลงทะเบียน {name} แล้ว", "{name} registered."),
    "device_rotated": (
        "ออกรหัสผ่านใหม่ให้ {name} แล้ว รหัสเดิมใช้ไม่ได้อีก",
        "{name} has a new password; the old one no longer works.",
    ),
    "device_removed": ("ลบ {name} แล้ว เชื่อมต่อไม่ได้อีก", "{name} removed: it can no longer log in."),
    "device_error": ("ทำรายการไม่สำเร็จ: {message}", "Not done: {message}"),
    "broker_not_running": (
        "ยังไม่มี broker ทำงาน การเปลี่ยนแปลงจะมีผลเมื่อเริ่ม khiu broker",
        "No broker is running: the change applies when `khiu broker` starts.",
    ),
    "broker_dir": ("ไฟล์ของ broker", "Broker files"),
    # users
    "users_hint": ("จัดการผู้ใช้ที่หน้า", "Manage users on the page"),
}


def text(key: str, lang: Lang, **values: object) -> str:
    """The dashboard's string `key` (else the web app's) in `lang`, with `{name}` fields filled."""
    pair = TEXTS.get(key) or WEB_TEXTS[key]
    template = pick(pair, lang)
    return template.format(**values) if values else template


def translator(lang: Lang) -> Callable[..., str]:
    """`t("key", n=3)` for the dashboard's templates."""

    def t(key: str, **values: object) -> str:
        return text(key, lang, **values)

    return t
