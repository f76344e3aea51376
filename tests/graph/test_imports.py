"""Bulk imports: the LDBC SNB sample and the plain CSV format; both rerun-safe."""

from pathlib import Path

import httpx
import pytest

from services.cli import main
from services.graph.database import Graph
from services.graph.importers import queries
from services.graph.importers.ldbc import import_ldbc, member_id, rating_for
from services.graph.importers.plain_csv import CONNECTION_COLUMNS, ImportFormatError, import_csv
from services.graph.importers.rebuild import wipe
from services.graph.queries import GET_MEMBER
from tests.graph.builders import get_json, new_id, snapshot

# shared/ sits beside the checkout, in development and in CI alike.
LDBC_SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "ldbc-sf0.003"


async def _counts(graph: Graph) -> tuple[int, int]:
    [row] = await graph.read(queries.COUNT_GRAPH)
    return row["members"], row["connections"]


async def test_ldbc_import_loads_every_person_and_knows_edge(graph: Graph) -> None:
    loaded = await import_ldbc(graph, LDBC_SAMPLE, batch_size=100)

    assert [(each.kind, each.rows) for each in loaded] == [("members", 222), ("connections", 825)]
    assert await _counts(graph) == (222, 825)


async def test_ldbc_import_twice_leaves_the_same_graph(graph: Graph) -> None:
    await import_ldbc(graph, LDBC_SAMPLE)
    once = await snapshot(graph)

    await import_ldbc(graph, LDBC_SAMPLE)

    assert await snapshot(graph) == once


@pytest.mark.parametrize(
    ("interactions", "rating"), [(0, 1), (1, 4), (2, 6), (3, 7), (4, 8), (6, 9), (7, 10), (500, 10)]
)
def test_ldbc_interaction_counts_map_to_ratings(interactions: int, rating: int) -> None:
    assert rating_for(interactions) == rating


async def test_ldbc_edge_gets_the_rating_of_its_interaction_count(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    await import_ldbc(graph, LDBC_SAMPLE)
    # derived_knows_weighted.csv: 4398046511192|6597069766769|...|2 interactions.
    me, other = member_id("4398046511192"), member_id("6597069766769")
    url = f"/internal/v1/members/{me}/connections/{other}"

    body = await get_json(graph_client, url)

    assert (body["my_rating"], body["how_we_met"]) == (6, "known_online")
    assert body["connected_at"].startswith("2010-07-26T18:35:18.754")


def test_cli_import_ldbc_prints_the_rate(capsys: pytest.CaptureFixture[str], graph: Graph) -> None:
    main(["import", "ldbc", str(LDBC_SAMPLE)])

    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["members", "connections"]
    assert all(line.endswith("rows/s)") for line in lines)


def _write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def test_csv_import_loads_members_and_both_sides_ratings(
    graph: Graph, graph_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    ada, bob = new_id(), new_id()
    members = _write(
        tmp_path / "members.csv",
        "member_id,name,is_recruiter,allows_introductions",
        f"{ada},Ada Lovelace,false,true",
        f"{bob},Bob,,false",
    )
    connections = _write(
        tmp_path / "connections.csv",
        "member_id,other_member_id,member_rating,other_rating,how_we_met,connected_at,last_interaction_at",
        f"{bob},{ada},3,,meal,2026-01-01T10:00:00,2026-02-01T09:30:00+01:00",
    )

    loaded = await import_csv(graph, members, connections)

    assert [each.rows for each in loaded] == [2, 1]
    from_ada = await get_json(graph_client, f"/internal/v1/members/{ada}/connections/{bob}")
    from_bob = await get_json(graph_client, f"/internal/v1/members/{bob}/connections/{ada}")
    assert (from_ada["my_rating"], from_bob["my_rating"]) == (None, 3)
    assert from_ada["connected_at"] == "2026-01-01T10:00:00Z"
    assert from_ada["last_interaction_at"] == "2026-02-01T08:30:00Z"


async def test_csv_import_twice_leaves_the_same_graph(graph: Graph, tmp_path: Path) -> None:
    ada, bob = new_id(), new_id()
    members = _write(
        tmp_path / "m.csv", "member_id,name,is_recruiter,allows_introductions", f"{ada},Ada,,"
    )
    connections = _write(
        tmp_path / "c.csv",
        "member_id,other_member_id,member_rating,other_rating,how_we_met,connected_at,last_interaction_at",
        f"{ada},{bob},9,8,coffee,2026-01-01T10:00:00Z,",
    )
    await import_csv(graph, members, connections)
    once = await snapshot(graph)

    await import_csv(graph, members, connections)

    assert await snapshot(graph) == once
    assert await _counts(graph) == (2, 1)


@pytest.mark.parametrize(
    ("row", "complaint"),
    [
        ("{a},{b},11,,coffee,2026-01-01T10:00:00Z,", "a rating is 1-10"),
        ("{a},{b},,,met_in_a_dream,2026-01-01T10:00:00Z,", "how_we_met is one of"),
        ("{a},{a},,,coffee,2026-01-01T10:00:00Z,", "themselves"),
        ("{a},not-a-uuid,,,coffee,2026-01-01T10:00:00Z,", "badly formed"),
        ("{a},{b},,,coffee,,", "connected_at is required"),
    ],
)
async def test_csv_import_names_the_line_of_a_bad_row(
    graph: Graph, tmp_path: Path, row: str, complaint: str
) -> None:
    members = _write(tmp_path / "m.csv", "member_id,name,is_recruiter,allows_introductions")
    connections = _write(
        tmp_path / "c.csv",
        "member_id,other_member_id,member_rating,other_rating,how_we_met,connected_at,last_interaction_at",
        row.format(a=new_id(), b=new_id()),
    )

    with pytest.raises(ImportFormatError, match=complaint) as error:
        await import_csv(graph, members, connections)

    assert f"{connections}:2:" in str(error.value)


async def test_csv_import_refuses_a_file_without_its_columns(graph: Graph, tmp_path: Path) -> None:
    members = _write(tmp_path / "m.csv", "id,name")

    with pytest.raises(ImportFormatError, match="missing columns"):
        await import_csv(graph, members, members)


async def test_ldbc_import_in_small_concurrent_batches_leaves_the_same_graph(
    graph: Graph,
) -> None:
    await import_ldbc(graph, LDBC_SAMPLE)
    whole = await snapshot(graph)
    await wipe(graph)

    await import_ldbc(graph, LDBC_SAMPLE, batch_size=50)

    assert await snapshot(graph) == whole


CONNECTIONS_HEADER = ",".join(CONNECTION_COLUMNS)


async def test_csv_import_keeps_the_last_row_of_a_pair_listed_twice(
    graph: Graph, graph_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    ada, bob = new_id(), new_id()
    members = _write(tmp_path / "m.csv", "member_id,name,is_recruiter,allows_introductions")
    connections = _write(
        tmp_path / "c.csv",
        CONNECTIONS_HEADER,
        f"{ada},{bob},2,3,coffee,2026-01-01T10:00:00Z,",
        f"{bob},{ada},7,8,meal,2026-01-02T10:00:00Z,",
    )

    await import_csv(graph, members, connections, batch_size=1)

    assert await _counts(graph) == (2, 1)
    from_ada = await get_json(graph_client, f"/internal/v1/members/{ada}/connections/{bob}")
    assert (from_ada["my_rating"], from_ada["how_we_met"]) == (8, "meal")


async def test_csv_import_into_a_graph_with_connections_updates_them_in_place(
    graph: Graph, graph_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    ada, bob, cy = new_id(), new_id(), new_id()
    members = _write(
        tmp_path / "m.csv", "member_id,name,is_recruiter,allows_introductions", f"{ada},Ada,,"
    )
    first = _write(
        tmp_path / "first.csv", CONNECTIONS_HEADER, f"{ada},{bob},2,3,coffee,2026-01-01T10:00Z,"
    )
    await import_csv(graph, members, first)
    second = _write(
        tmp_path / "second.csv",
        CONNECTIONS_HEADER,
        f"{ada},{bob},9,9,beer,2026-01-01T10:00:00Z,",
        f"{ada},{cy},5,5,event,2026-01-01T10:00:00Z,",
    )

    await import_csv(graph, members, second)

    assert await _counts(graph) == (3, 2)
    from_ada = await get_json(graph_client, f"/internal/v1/members/{ada}/connections/{bob}")
    assert (from_ada["my_rating"], from_ada["how_we_met"]) == (9, "beer")


async def test_csv_import_gives_a_member_named_only_by_a_connection_a_bare_node(
    graph: Graph, tmp_path: Path
) -> None:
    ada, bob = new_id(), new_id()
    members = _write(
        tmp_path / "m.csv", "member_id,name,is_recruiter,allows_introductions", f"{ada},Ada,,"
    )
    connections = _write(
        tmp_path / "c.csv", CONNECTIONS_HEADER, f"{ada},{bob.upper()},,,coffee,2026-01-01T10:00Z,"
    )

    await import_csv(graph, members, connections)

    [bare] = await graph.read(GET_MEMBER, member_id=bob)
    assert bare == {
        "member_id": bob,
        "name": None,
        "is_recruiter": None,
        "allows_introductions": None,
        "connections_visible_to": None,
        "reachable_by": None,
        "event_seq": None,
    }
    assert await _counts(graph) == (2, 1)
