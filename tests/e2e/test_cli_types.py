"""``rota type import|export|list|remove-property`` end to end on a real SQLite file."""
from __future__ import annotations

import json


def test_type_file_import_export_list_and_refusals(run, tmp_path):
    spec = {"name": "invoice", "label": "Invoice", "properties": [
        {"name": "total", "label": "Total", "type": "string"},
        {"name": "state", "label": "State", "type": "enumeration",
         "options": [{"name": "open", "label": "Open"}, {"name": "paid", "label": "Paid"}], "required": True}]}
    path = tmp_path / "invoice.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    assert run("type", "import", str(path)) == (0, "created type invoice with 2 properties\n", "")
    code, out, _ = run("type", "export", "invoice")
    assert code == 0 and json.loads(out)["properties"][1]["options"][1] == {"name": "paid", "label": "Paid"}
    code, out, _ = run("type", "list", "--json")
    assert code == 0 and [t["name"] for t in json.loads(out)][-1] == "invoice"
    code, out, _ = run("type", "list")
    assert code == 0 and "invoice  Invoice  custom" in out
    csv = tmp_path / "inv.csv"
    csv.write_text("Total,State\n12,open\nlots,paid\n", encoding="utf-8")
    assert run("import", "invoice", str(csv))[0] == 0
    spec["properties"][0]["type"] = "number"
    path.write_text(json.dumps(spec), encoding="utf-8")
    code, out, err = run("type", "import", str(path))
    assert code == 2 and 'invoice 2 holds "lots"' in err and err.count("\n") == 1
    wf = tmp_path / "wf.json"
    wf.write_text(json.dumps({"name": "Open invoices", "object_type": "invoice",
                              "schedule": {"kind": "daily", "time": "08:00"},
                              "criteria": [[{"property": "total", "operator": "contains", "value": "1"}]]}))
    assert run("workflow", "import", str(wf))[0] == 0
    code, _, err = run("type", "remove-property", "invoice", "total")
    assert code == 2 and 'workflow "Open invoices" uses it' in err
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"{\"name\": \"x\", \"properties\": [{\"name\": \"a\", \"type\": \"money\"}]}")
    code, _, err = run("type", "import", str(bad))
    assert code == 2 and 'type "money" is unknown' in err
