"""Each reader on small hand-made files: what it returns and how it fails."""

from __future__ import annotations

import gzip
import json

import pytest

from idprobe.data import (
    load_dataset,
    read_amazon,
    read_movielens_100k,
    read_movielens_csv,
    read_movielens_dat,
    read_openp5,
    read_p5,
    read_recbole,
    read_table,
)
from idprobe.errors import DataFormatError


def review(user, item, rating=5.0, time=100, **extra):
    record = {"reviewerID": user, "asin": item, "overall": rating, "unixReviewTime": time}
    record.update(extra)
    return json.dumps(record)


# ---------------------------------------------------------------- P5 and OpenP5


def test_p5_crlf_and_datamaps(write):
    seq = write("d/p5_sequential_data.txt", b"1 1 2 3\r\n2 2 3\r\n")
    write(
        "d/p5_datamaps.json",
        json.dumps({"id2user": {"1": "UA", "2": "UB"}, "id2item": {"1": "X", "2": "Y", "3": "Z"}}),
    )
    data = read_p5(seq.parent)
    assert data.raw_sequences() == {"UA": ["X", "Y", "Z"], "UB": ["Y", "Z"]}
    plain = read_p5(seq, datamaps=None)
    assert plain.raw_sequences() == {"1": ["1", "2", "3"], "2": ["2", "3"]}
    assert data.name == "d" and not data.has_ratings


def test_p5_id_missing_from_datamaps(write):
    seq = write("p5_sequential_data.txt", "1 1 2\n1 9\n")
    write("p5_datamaps.json", json.dumps({"id2user": {"1": "UA"}, "id2item": {"1": "X", "2": "Y"}}))
    with pytest.raises(
        DataFormatError,
        match=r"p5_sequential_data.txt:2: field 'item': expected item ids listed in .*, found '9'",
    ):
        read_p5(seq)


def test_p5_bad_datamaps(write):
    seq = write("p5_sequential_data.txt", "1 1 2\n")
    write("p5_datamaps.json", "{not json")
    with pytest.raises(
        DataFormatError, match=r"p5_datamaps.json:1: field 'json': expected valid JSON"
    ):
        read_p5(seq)
    write("p5_datamaps.json", json.dumps({"id2user": {}}))
    with pytest.raises(DataFormatError, match="field 'id2item'"):
        read_p5(seq)


def test_p5_line_without_items(write):
    seq = write("p5_sequential_data.txt", "1 1 2\n2\n")
    with pytest.raises(
        DataFormatError,
        match=r":2: field 'items': expected a user id followed by at least one item id, found '2'",
    ):
        read_p5(seq, datamaps=None)


def test_openp5(write):
    path = write("user_sequence.txt", "A1 B7 B3\nA2 B3 B9 B1\n")
    data = read_openp5(path)
    assert data.raw_sequences() == {"A1": ["B7", "B3"], "A2": ["B3", "B9", "B1"]}
    assert read_openp5(path.parent).n_interactions == 5


# ---------------------------------------------------------------- Amazon


def test_amazon_plain_gz_text_and_duplicates(write):
    lines = [
        review("u1", "a", 4.0, 300, reviewText="nice", summary="ok"),
        review("u1", "b", 2.0, 100),
        review("u1", "a", 1.0, 500, reviewText="changed my mind"),
        review("u2", "a", 5.0, 200, vote="3", verified=True),
    ]
    path = write("reviews.json.gz", gzip.compress(("\n".join(lines) + "\n").encode()))
    first = read_amazon(path)
    assert first.raw_sequences() == {"u1": ["b", "a"], "u2": ["a"]}
    assert first.ratings.tolist() == [2.0, 4.0, 5.0]
    assert first.timestamps.tolist() == [100, 300, 200]
    assert first.review_texts.tolist() == [None, "nice", None]
    assert first.duplicates_removed == 1
    last = read_amazon(path, duplicates="last")
    assert last.raw_sequences() == {"u1": ["b", "a"], "u2": ["a"]}
    assert last.ratings.tolist() == [2.0, 1.0, 5.0]
    with pytest.raises(
        DataFormatError, match=r"reviews.json.gz:3: field 'item'.*first seen at line 1"
    ):
        read_amazon(path, duplicates="error")
    assert read_amazon(path, text=False).review_texts is None


def test_amazon_2014_loose_json(write):
    path = write(
        "reviews.json",
        "{'reviewerID': 'u1', 'asin': 'a', 'overall': 5.0, 'unixReviewTime': 1, 'reviewText': \"it's fine\"}\n",
    )
    assert read_amazon(path).review_texts.tolist() == ["it's fine"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (review("u", "a", "five"), r":2: field 'overall': expected a finite number, found 'five'"),
        (review("u", "a", 9.0), r":2: field 'rating': expected a rating in \[1, 5\], found 9.0"),
        (review("u", "a", float("nan")), r":2: field 'overall': expected a finite number"),
        (
            review("u", "a", 5.0, "yesterday"),
            r":2: field 'unixReviewTime': expected Unix seconds or an ISO-8601 date, found 'yesterday'",
        ),
        (
            json.dumps({"reviewerID": "u", "overall": 5, "unixReviewTime": 1}),
            r":2: field 'asin': expected a value, found no such field",
        ),
        ("[1, 2]", r":2: field 'json': expected one JSON object per line, found list"),
        ("{oops", r":2: field 'json': expected one JSON object per line"),
    ],
)
def test_amazon_bad_records(write, line, message):
    path = write("reviews.json", review("u0", "z") + "\n" + line + "\n")
    with pytest.raises(DataFormatError, match=message):
        read_amazon(path)


# ---------------------------------------------------------------- tables


def test_recbole(write):
    path = write(
        "beauty.inter",
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\nu1\ti1\t5\t10\nu1\ti2\t3\t5\n",
    )
    data = read_recbole(path)
    assert data.raw_sequences() == {"u1": ["i2", "i1"]}
    assert data.ratings.tolist() == [3.0, 5.0]


def test_recbole_bad_header_and_missing_column(write):
    path = write("x.inter", "user_id\titem_id:token\nu\ti\n")
    with pytest.raises(
        DataFormatError, match=r"x.inter:1: field 'header': expected 'name:type' fields"
    ):
        read_recbole(path)
    path = write("y.inter", "user_id:token\trating:float\nu\t3\n")
    with pytest.raises(
        DataFormatError,
        match=r"y.inter:1: field 'header': expected a column named 'item_id' \(the item\)",
    ):
        read_recbole(path)


def test_recbole_wrong_width(write):
    path = write("z.inter", "user_id:token\titem_id:token\nu\ti\nu\n")
    with pytest.raises(DataFormatError, match=r"z.inter:3: field 'row': expected 2 fields"):
        read_recbole(path)


def test_movielens_variants(write):
    write("ml/u.data", "1\t10\t4\t100\n1\t20\t3\t50\n2\t10\t5\t70\n")
    write(
        "ml/u.item",
        "10|Caf\xe9 (1995)|01-Jan-1995||url|0\n20|Other (1996)|x||y|0\n".encode("latin-1"),
    )
    data = read_movielens_100k(write("ml/README", "x").parent)
    assert data.raw_sequences() == {"1": ["20", "10"], "2": ["10"]}
    assert data.item_info["title"].tolist() == ["Café (1995)", "Other (1996)"]
    dat = write("ml1m/ratings.dat", "1::10::4::100\n1::20::3::50\n")
    write("ml1m/movies.dat", "10::Ten (1990)::Drama\n".encode("latin-1"))
    data = read_movielens_dat(dat)
    assert data.raw_sequences() == {"1": ["20", "10"]}
    assert data.item_info["title"].tolist() == ["Ten (1990)", None]
    csv_path = write(
        "mlx/ratings.csv", "userId,movieId,rating,timestamp\n1,10,4.5,100\n1,20,0.5,50\n"
    )
    write("mlx/movies.csv", 'movieId,title,genres\n10,"Ten, The (1990)",Drama\n')
    data = read_movielens_csv(csv_path)
    assert data.ratings.tolist() == [0.5, 4.5]
    assert data.item_info["title"].tolist() == ["Ten, The (1990)", None]


def test_movielens_csv_wrong_header(write):
    path = write("ratings.csv", "user,movie,rating,timestamp\n1,2,3,4\n")
    with pytest.raises(
        DataFormatError,
        match=r"ratings.csv:1: field 'header': expected userId,movieId,rating,timestamp",
    ):
        read_movielens_csv(path)


def test_generic_table_columns_and_iso_dates(write):
    path = write(
        "log.csv",
        'who,what,stars,when,note\na,x,4,2020-01-02,"good, really"\na,y,5,2020-01-01T10:00:00,meh\n',
    )
    data = read_table(path, user="who", item="what", rating="stars", timestamp="when", text="note")
    assert data.raw_sequences() == {"a": ["y", "x"]}
    assert data.review_texts.tolist() == ["meh", "good, really"]
    assert data.timestamps.tolist() == [1577872800, 1577923200]
    tsv = write("log.tsv", "user\titem\nq\tw\n")
    assert read_table(tsv).raw_sequences() == {"q": ["w"]}
    assert not read_table(tsv).has_ratings


def test_generic_table_missing_named_column(write):
    path = write("log.csv", "user,item\na,b\n")
    with pytest.raises(
        DataFormatError,
        match=r"log.csv:1: field 'header': expected a column named 'stars' \(the rating\), found \['user', 'item'\]",
    ):
        read_table(path, rating="stars")
    with pytest.raises(DataFormatError, match=r"expected a column named 'customer' \(the user\)"):
        read_table(path, user="customer")


# ---------------------------------------------------------------- file-level failures


def test_empty_file(write):
    for name, reader in (
        ("p5_sequential_data.txt", read_p5),
        ("r.json", read_amazon),
        ("u.data", read_movielens_100k),
    ):
        path = write(name, "\n  \n")
        with pytest.raises(
            DataFormatError,
            match=rf"{name}: field 'content': expected at least one record, found an empty file",
        ):
            reader(path)


def test_truncated_gzip(write):
    payload = gzip.compress(
        ("\n".join(review(f"u{k}", f"i{k}") for k in range(2000)) + "\n").encode()
    )
    path = write("reviews.json.gz", payload[: len(payload) // 2])
    with pytest.raises(
        DataFormatError,
        match=r"reviews.json.gz:\d+: field 'gzip stream': expected a complete gzip file, found a damaged stream",
    ):
        read_amazon(path)


def test_wrong_encoding(write):
    path = write("user_sequence.txt", b"A1 B1 B2\nA2 B\xe9 B3\n")
    with pytest.raises(
        DataFormatError,
        match=r"user_sequence.txt:2: field 'encoding': expected utf-8 text, found byte 0xe9 at column 5",
    ):
        read_openp5(path)


def test_missing_path(tmp_path):
    with pytest.raises(
        DataFormatError,
        match=r"nope.json: field 'path': expected an Amazon reviews JSON file that exists",
    ):
        read_amazon(tmp_path / "nope.json")
    with pytest.raises(DataFormatError, match="field 'path'"):
        load_dataset(tmp_path / "nothing-here")
