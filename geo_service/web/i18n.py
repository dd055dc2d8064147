"""Page texts: Bahasa Indonesia first, English by choice (?lang=, cookie, Accept-Language)."""

from __future__ import annotations

from flask import request

TEXT: dict[str, dict[str, str]] = {
    "id": {
        "app": "Layanan Koordinat 110", "console": "Konsol", "incidents": "Insiden", "recap": "Rekap mingguan",
        "admin": "Admin", "boundaries": "Batas wilayah", "stations": "Pos/kantor polisi", "login": "Masuk",
        "logout": "Keluar", "username": "Nama pengguna", "password": "Kata sandi", "login_failed":
        "Nama pengguna atau kata sandi salah.", "input_label": "Lokasi (koordinat, DMS, UTM, tautan peta, SMS AML, nama desa ...)",
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
        "approximate": "Lokasi perkiraan dari nama tempat", "place": "Tempat",
        "place_suggestions": "Saran nama tempat",
    },
    "en": {
        "app": "110 Coordinate Service", "console": "Console", "incidents": "Incidents", "recap": "Weekly recap",
        "admin": "Admin", "boundaries": "Boundaries", "stations": "Stations", "login": "Log in",
        "logout": "Log out", "username": "Username", "password": "Password", "login_failed":
        "Wrong username or password.", "input_label": "Location (coordinates, DMS, UTM, map link, AML SMS, village name ...)",
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
        "approximate": "Approximate location from a place name", "place": "Place",
        "place_suggestions": "Place-name suggestions",
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
