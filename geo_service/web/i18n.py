"""Page texts: Bahasa Indonesia first, English by choice (?lang=, cookie, Accept-Language)."""

from __future__ import annotations

from flask import request

TEXT: dict[str, dict[str, str]] = {
    "id": {
        "app": "Layanan Koordinat 110", "console": "Konsol", "incidents": "Insiden", "recap": "Rekap mingguan",
        "admin": "Admin", "boundaries": "Batas wilayah", "stations": "Pos/kantor polisi", "login": "Masuk",
        "logout": "Keluar", "username": "Nama pengguna", "password": "Kata sandi", "login_failed":
        "Nama pengguna atau kata sandi salah.", "input_label": "Lokasi (koordinat, DMS, UTM, tautan peta, SMS AML ...)",
        "hint_label": "Unit penelepon (opsional)", "submit": "Cari (Enter)", "result": "Hasil",
        "in_unit": "Titik berada di wilayah", "responsible": "Unit yang bertanggung jawab",
        "at_sea": "Titik berada di laut; unit terdekat", "outside": "Titik berada di luar semua wilayah; unit terdekat",
        "border": "Titik dekat batas wilayah; periksa kandidat", "invalid": "Koordinat tidak dapat dipakai",
        "suspect": "Koordinat meragukan: pilih salah satu kandidat", "corrected": "Koordinat dikoreksi",
        "valid": "Koordinat valid", "reasons": "Alasan", "copy_btn": "Salin", "copied": "Tersalin",
        "send_officer": "Kirim ke petugas", "officer_link": "Tautan untuk petugas (berlaku sampai",
        "nearest_stations": "Pos terdekat", "distance": "Jarak", "confidence": "Keyakinan",
        "uncertainty": "Ketidakpastian", "original": "Titik asli", "corrected_point": "Titik terkoreksi",
        "candidates": "Kandidat", "share": "porsi", "open_nav": "Buka di aplikasi navigasi",
        "open_gmaps": "Buka di Google Maps", "coords": "Koordinat", "sample": "CONTOH — bukan data nyata",
        "upload": "Unggah", "level": "Tingkat", "file": "Berkas", "publish": "Terbitkan",
        "republish": "Terbitkan lagi (rollback)", "published": "terbit", "draft": "draf", "archived": "arsip",
        "report": "Laporan pemeriksaan", "errors": "Galat", "warnings": "Peringatan", "diff": "Perubahan",
        "added": "ditambah", "removed": "dihapus", "changed": "diubah", "units": "Unit", "set": "Set",
        "code_field": "Kolom kode", "name_field": "Kolom nama", "parent_field": "Kolom kode induk",
        "crs": "CRS sumber (jika tidak ada .prj)", "mapping": "Tabel pemetaan CSV (opsional)",
        "no_problems": "Tidak ada masalah.", "created": "Dibuat", "by": "oleh", "week": "Minggu",
        "unit": "Unit", "language": "English", "lang_other": "en", "map": "Peta", "status": "Status",
        "back": "Kembali", "none": "—", "matches": "Kecocokan",
        # location requests (issue 15): the console panel and the caller's phone page ("lr_" keys reach its script)
        "locreq_button": "Minta lokasi penelepon", "locreq_phone": "Nomor penelepon (opsional)",
        "locreq_lang": "Bahasa SMS dan halaman penelepon",
        "locreq_sms": "Teks SMS/WhatsApp", "locreq_link": "Tautan", "locreq_code": "Kode",
        "locreq_expires": "Berlaku sampai", "locreq_qr": "Kode QR tautan lokasi",
        "locreq_send_sms": "Kirim SMS", "locreq_send_wa": "Kirim WhatsApp",
        "locreq_waiting": "Menunggu penelepon membuka tautan…", "locreq_opened": "Penelepon membuka tautan…",
        "locreq_received": "Lokasi diterima", "locreq_denied": "Penelepon menolak izin lokasi",
        "locreq_expired": "Tautan kedaluwarsa", "locreq_accuracy": "Akurasi", "locreq_age": "Umur posisi",
        "locreq_source": "Sumber", "locreq_typed": "Tempat yang diketik penelepon",
        "locreq_failed": "Permintaan gagal",
        "lr_title": "Kirim lokasi Anda ke Polisi",
        "lr_why": "Petugas 110 yang sedang menelepon Anda meminta lokasi ponsel Anda agar bantuan datang ke tempat "
                  "yang tepat; lokasi hanya dikirim sekali, ke polisi saja.",
        "lr_code": "Kode permintaan (harus sama dengan yang disebut petugas):",
        "lr_allow": "Tekan \u201cIzinkan\u201d bila ponsel meminta izin lokasi.",
        "lr_searching": "Mencari lokasi…", "lr_best": "Akurasi saat ini: ±{m} m",
        "lr_sent": "Lokasi terkirim", "lr_sent_acc": "Akurasi: ±{m} m. Tetap di telepon dengan petugas.",
        "lr_sent_text": "Terima kasih, keterangan Anda terkirim. Tetap di telepon dengan petugas.",
        "lr_retry": "Coba lagi", "lr_pin": "Tandai di peta", "lr_pin_help": "Geser penanda ke lokasi Anda, lalu kirim.",
        "lr_pin_send": "Kirim titik ini", "lr_text": "Ketik nama desa / jalan",
        "lr_text_label": "Nama desa, jalan, atau tanda di dekat Anda", "lr_text_send": "Kirim",
        "lr_denied": "Izin lokasi ditolak.",
        "lr_next": "Yang dapat Anda lakukan: tetap di telepon atau telepon kembali 110; bacakan tanda di dekat "
                   "Anda (nama jalan, nomor rumah, papan toko, nomor tiang listrik); atau ketik nama desa/jalan di bawah.",
        "lr_unavailable": "Lokasi tidak dapat ditemukan. Tandai di peta atau ketik nama desa/jalan.",
        "lr_error": "Pengiriman gagal; periksa sinyal lalu coba lagi.",
        "lr_invalid": "Tautan ini tidak berlaku.", "lr_expired": "Tautan ini sudah kedaluwarsa.",
        "lr_used": "Lokasi Anda sudah terkirim. Terima kasih.",
        "lr_closed_next": "Bila masih butuh bantuan, telepon 110.",
    },
    "en": {
        "app": "110 Coordinate Service", "console": "Console", "incidents": "Incidents", "recap": "Weekly recap",
        "admin": "Admin", "boundaries": "Boundaries", "stations": "Stations", "login": "Log in",
        "logout": "Log out", "username": "Username", "password": "Password", "login_failed":
        "Wrong username or password.", "input_label": "Location (coordinates, DMS, UTM, map link, AML SMS ...)",
        "hint_label": "Caller's unit (optional)", "submit": "Locate (Enter)", "result": "Result",
        "in_unit": "The point is in the area of", "responsible": "Responsible unit",
        "at_sea": "The point is at sea; nearest unit", "outside": "The point is outside every area; nearest unit",
        "border": "The point is near a border; check the candidates", "invalid": "The coordinate cannot be used",
        "suspect": "The coordinate is doubtful: choose a candidate", "corrected": "Coordinate corrected",
        "valid": "Coordinate valid", "reasons": "Reasons", "copy_btn": "Copy", "copied": "Copied",
        "send_officer": "Send to officer", "officer_link": "Link for the officer (valid until",
        "nearest_stations": "Nearest stations", "distance": "Distance", "confidence": "Confidence",
        "uncertainty": "Uncertainty", "original": "Original point", "corrected_point": "Corrected point",
        "candidates": "Candidates", "share": "share", "open_nav": "Open in the navigation app",
        "open_gmaps": "Open in Google Maps", "coords": "Coordinates", "sample": "SAMPLE — not real data",
        "upload": "Upload", "level": "Level", "file": "File", "publish": "Publish",
        "republish": "Publish again (rollback)", "published": "published", "draft": "draft", "archived": "archived",
        "report": "Check report", "errors": "Errors", "warnings": "Warnings", "diff": "Changes",
        "added": "added", "removed": "removed", "changed": "changed", "units": "Units", "set": "Set",
        "code_field": "Code field", "name_field": "Name field", "parent_field": "Parent code field",
        "crs": "Source CRS (when there is no .prj)", "mapping": "Mapping table CSV (optional)",
        "no_problems": "No problems.", "created": "Created", "by": "by", "week": "Week",
        "unit": "Unit", "language": "Bahasa Indonesia", "lang_other": "id", "map": "Map", "status": "Status",
        "back": "Back", "none": "—", "matches": "Match",
        "locreq_button": "Ask the caller for their location", "locreq_phone": "Caller's number (optional)",
        "locreq_lang": "Language of the SMS and the caller's page",
        "locreq_sms": "SMS/WhatsApp text", "locreq_link": "Link", "locreq_code": "Code",
        "locreq_expires": "Valid until", "locreq_qr": "QR code of the location link",
        "locreq_send_sms": "Send SMS", "locreq_send_wa": "Send WhatsApp",
        "locreq_waiting": "Waiting for the caller to open the link…", "locreq_opened": "The caller opened the link…",
        "locreq_received": "Location received", "locreq_denied": "The caller refused location permission",
        "locreq_expired": "Link expired", "locreq_accuracy": "Accuracy", "locreq_age": "Age of the fix",
        "locreq_source": "Source", "locreq_typed": "Place typed by the caller",
        "locreq_failed": "Request failed",
        "lr_title": "Send your location to the police",
        "lr_why": "The 110 officer on the phone with you asks for your phone's location so that help reaches the "
                  "right place; it is sent once, to the police only.",
        "lr_code": "Request code (must match the one the officer tells you):",
        "lr_allow": "Press \u201cAllow\u201d when your phone asks for location permission.",
        "lr_searching": "Finding your location…", "lr_best": "Current accuracy: ±{m} m",
        "lr_sent": "Location sent", "lr_sent_acc": "Accuracy: ±{m} m. Stay on the line with the officer.",
        "lr_sent_text": "Thank you, your description was sent. Stay on the line with the officer.",
        "lr_retry": "Try again", "lr_pin": "Mark it on a map", "lr_pin_help": "Drag the marker to where you are, then send.",
        "lr_pin_send": "Send this point", "lr_text": "Type the village / street",
        "lr_text_label": "Village, street or a sign near you", "lr_text_send": "Send",
        "lr_denied": "Location permission was refused.",
        "lr_next": "What you can do: stay on the line or call 110 back; read out a sign near you (street name, "
                   "house number, shop sign, electricity pole number); or type the village/street below.",
        "lr_unavailable": "Your location could not be found. Mark it on a map or type the village/street.",
        "lr_error": "Sending failed; check your signal and try again.",
        "lr_invalid": "This link is not valid.", "lr_expired": "This link has expired.",
        "lr_used": "Your location has already been sent. Thank you.",
        "lr_closed_next": "If you still need help, call 110.",
    },
}


def page_lang() -> str:
    """'id' unless English was chosen (?lang=en, the lang cookie, or Accept-Language)."""
    lang = request.args.get("lang") or request.cookies.get("lang")
    if lang in TEXT:
        return lang
    return request.accept_languages.best_match(["id", "en"], default="id") or "id"


def texts(lang: str) -> dict[str, str]:
    """The texts of one language."""
    return TEXT.get(lang, TEXT["id"])
