"""τ-bench's airline tools: the same names, arguments, effects on the database and messages.

Each tool is `fn(data, **arguments) -> str`, mutating `data` (flights, reservations, users) in place
as τ-bench's `Tool.invoke` does; the schemas sent to the model are τ-bench's own (`tau_tools.json`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from copy import deepcopy
from typing import Any

from evalscope_native.families.function_calling.tau_retail import calculate, think, transfer_to_human_agents

__all__ = ["TOOLS"]

Data = dict[str, Any]

_AIRPORTS = {
    "SFO": "San Francisco", "JFK": "New York", "LAX": "Los Angeles", "ORD": "Chicago", "DFW": "Dallas",
    "DEN": "Denver", "SEA": "Seattle", "ATL": "Atlanta", "MIA": "Miami", "BOS": "Boston", "PHX": "Phoenix",
    "IAH": "Houston", "LAS": "Las Vegas", "MCO": "Orlando", "EWR": "Newark", "CLT": "Charlotte",
    "MSP": "Minneapolis", "DTW": "Detroit", "PHL": "Philadelphia", "LGA": "LaGuardia",
}  # fmt: skip


def _priced(data: Data, flight: dict[str, Any], cabin: str, passengers: int) -> str | None:
    """Check one flight segment is bookable and fill its price, origin and destination (τ-bench's loop
    body in book_reservation / update_reservation_flights); an error message when it is not."""
    number = flight["flight_number"]
    if number not in data["flights"]:
        return f"Error: flight {number} not found"
    info = data["flights"][number]
    if flight["date"] not in info["dates"]:
        return f"Error: flight {number} not found on date {flight['date']}"
    day = info["dates"][flight["date"]]
    if day["status"] != "available":
        return f"Error: flight {number} not available on date {flight['date']}"
    if day["available_seats"][cabin] < passengers:
        return f"Error: not enough seats on flight {number}"
    flight["price"] = day["prices"][cabin]
    flight["origin"] = info["origin"]
    flight["destination"] = info["destination"]
    return None


def book_reservation(
    data: Data,
    user_id: str,
    origin: str,
    destination: str,
    flight_type: str,
    cabin: str,
    flights: list[dict[str, Any]],
    passengers: list[dict[str, Any]],
    payment_methods: list[dict[str, Any]],
    total_baggages: int,
    nonfree_baggages: int,
    insurance: str,
) -> str:
    reservations, users = data["reservations"], data["users"]
    if user_id not in users:
        return "Error: user not found"
    user = users[user_id]
    # τ-bench assumes at most three reservations a task: HATHAT, then HATHAU, then HATHAV
    reservation_id = next((r for r in ("HATHAT", "HATHAU") if r not in reservations), "HATHAV")
    reservation: dict[str, Any] = {
        "reservation_id": reservation_id,
        "user_id": user_id,
        "origin": origin,
        "destination": destination,
        "flight_type": flight_type,
        "cabin": cabin,
        "flights": deepcopy(flights),
        "passengers": passengers,
        "payment_history": payment_methods,
        "created_at": "2024-05-15T15:00:00",
        "total_baggages": total_baggages,
        "nonfree_baggages": nonfree_baggages,
        "insurance": insurance,
    }
    total_price = 0
    for flight in reservation["flights"]:
        error = _priced(data, flight, cabin, len(passengers))
        if error:
            return error
        total_price += flight["price"] * len(passengers)
    if insurance == "yes":
        total_price += 30 * len(passengers)
    total_price += 50 * nonfree_baggages
    for payment in payment_methods:
        pid, amount = payment["payment_id"], payment["amount"]
        if pid not in user["payment_methods"]:
            return f"Error: payment method {pid} not found"
        method = user["payment_methods"][pid]
        if method["source"] in ("gift_card", "certificate") and method["amount"] < amount:
            return f"Error: not enough balance in payment method {pid}"
    paid = sum(payment["amount"] for payment in payment_methods)
    if paid != total_price:
        return f"Error: payment amount does not add up, total price is {total_price}, but paid {paid}"
    for payment in payment_methods:
        pid = payment["payment_id"]
        if user["payment_methods"][pid]["source"] == "gift_card":
            user["payment_methods"][pid]["amount"] -= payment["amount"]
        elif user["payment_methods"][pid]["source"] == "certificate":
            del user["payment_methods"][pid]
    reservations[reservation_id] = reservation
    user["reservations"].append(reservation_id)
    return json.dumps(reservation)


def cancel_reservation(data: Data, reservation_id: str) -> str:
    reservations = data["reservations"]
    if reservation_id not in reservations:
        return "Error: reservation not found"
    reservation = reservations[reservation_id]
    refunds = [
        {"payment_id": p["payment_id"], "amount": -p["amount"]} for p in reservation["payment_history"]
    ]
    reservation["payment_history"].extend(refunds)
    reservation["status"] = "cancelled"
    return json.dumps(reservation)


def get_reservation_details(data: Data, reservation_id: str) -> str:
    reservations = data["reservations"]
    if reservation_id in reservations:
        return json.dumps(reservations[reservation_id])
    return "Error: user not found"  # sic: τ-bench's message


def get_user_details(data: Data, user_id: str) -> str:
    return json.dumps(data["users"][user_id]) if user_id in data["users"] else "Error: user not found"


def list_all_airports(data: Data) -> str:
    return json.dumps(_AIRPORTS)


def search_direct_flight(data: Data, origin: str, destination: str, date: str) -> str:
    results = []
    for flight in data["flights"].values():
        if flight["origin"] == origin and flight["destination"] == destination:
            if date in flight["dates"] and flight["dates"][date]["status"] == "available":
                results.append({k: v for k, v in flight.items() if k != "dates"} | flight["dates"][date])
    return json.dumps(results)


def search_onestop_flight(data: Data, origin: str, destination: str, date: str) -> str:
    flights = data["flights"].values()
    results = []
    for first in flights:
        if first["origin"] != origin:
            continue
        for second in flights:
            if second["destination"] != destination or first["destination"] != second["origin"]:
                continue
            date2 = f"2024-05-{int(date[-2:]) + 1}" if "+1" in first["scheduled_arrival_time_est"] else date
            if first["scheduled_arrival_time_est"] > second["scheduled_departure_time_est"]:
                continue
            if date in first["dates"] and date2 in second["dates"]:
                if (
                    first["dates"][date]["status"] == "available"
                    and second["dates"][date2]["status"] == "available"
                ):
                    leg1 = (
                        {k: v for k, v in first.items() if k != "dates"}
                        | first["dates"][date]
                        | {"date": date}
                    )
                    # sic: τ-bench fills the second leg's day from `date`, not `date2`
                    leg2 = (
                        {k: v for k, v in second.items() if k != "dates"}
                        | second["dates"][date]
                        | {"date": date2}
                    )
                    results.append([leg1, leg2])
    return json.dumps(results)


def send_certificate(data: Data, user_id: str, amount: int) -> str | None:
    users = data["users"]
    if user_id not in users:
        return "Error: user not found"
    user = users[user_id]
    for number in (3221322, 3221323, 3221324):  # τ-bench: at most three certificates a task
        payment_id = f"certificate_{number}"
        if payment_id not in user["payment_methods"]:
            user["payment_methods"][payment_id] = {
                "source": "certificate",
                "amount": amount,
                "id": payment_id,
            }
            return f"Certificate {payment_id} added to user {user_id} with amount {amount}."
    return None


def _payment_for_update(
    data: Data, reservation: dict[str, Any], payment_id: str, price: float
) -> str | dict[str, Any]:
    methods = data["users"][reservation["user_id"]]["payment_methods"]
    if payment_id not in methods:
        return "Error: payment method not found"
    method: dict[str, Any] = methods[payment_id]
    if method["source"] == "certificate":
        return "Error: certificate cannot be used to update reservation"
    if method["source"] == "gift_card" and method["amount"] < price:
        return "Error: gift card balance is not enough"
    return method


def update_reservation_baggages(
    data: Data, reservation_id: str, total_baggages: int, nonfree_baggages: int, payment_id: str
) -> str:
    reservations = data["reservations"]
    if reservation_id not in reservations:
        return "Error: reservation not found"
    reservation = reservations[reservation_id]
    total_price = 50 * max(0, nonfree_baggages - reservation["nonfree_baggages"])
    method = _payment_for_update(data, reservation, payment_id, total_price)
    if isinstance(method, str):
        return method
    reservation["total_baggages"] = total_baggages
    reservation["nonfree_baggages"] = nonfree_baggages
    if method["source"] == "gift_card":
        method["amount"] -= total_price
    if total_price != 0:
        reservation["payment_history"].append({"payment_id": payment_id, "amount": total_price})
    return json.dumps(reservation)


def update_reservation_flights(
    data: Data, reservation_id: str, cabin: str, flights: list[dict[str, Any]], payment_id: str
) -> str:
    reservations = data["reservations"]
    if reservation_id not in reservations:
        return "Error: reservation not found"
    reservation = reservations[reservation_id]
    passengers = len(reservation["passengers"])
    total_price = 0
    flights = deepcopy(flights)
    for flight in flights:
        kept = [
            f
            for f in reservation["flights"]
            if f["flight_number"] == flight["flight_number"]
            and f["date"] == flight["date"]
            and cabin == reservation["cabin"]
        ]
        if kept:  # an unchanged segment keeps its price
            total_price += kept[0]["price"] * passengers
            flight.update(
                price=kept[0]["price"], origin=kept[0]["origin"], destination=kept[0]["destination"]
            )
            continue
        error = _priced(data, flight, cabin, passengers)
        if error:
            return error
        total_price += flight["price"] * passengers
    total_price -= sum(f["price"] for f in reservation["flights"]) * passengers
    method = _payment_for_update(data, reservation, payment_id, total_price)
    if isinstance(method, str):
        return method
    if method["source"] == "gift_card":
        method["amount"] -= total_price
    reservation["flights"] = flights
    if total_price != 0:
        reservation["payment_history"].append({"payment_id": payment_id, "amount": total_price})
    return json.dumps(reservation)


def update_reservation_passengers(data: Data, reservation_id: str, passengers: list[dict[str, Any]]) -> str:
    reservations = data["reservations"]
    if reservation_id not in reservations:
        return "Error: reservation not found"
    reservation = reservations[reservation_id]
    if len(passengers) != len(reservation["passengers"]):
        return "Error: number of passengers does not match"
    reservation["passengers"] = passengers
    return json.dumps(reservation)


TOOLS: dict[str, Callable[..., str | None]] = {
    "book_reservation": book_reservation,
    "calculate": calculate,
    "cancel_reservation": cancel_reservation,
    "get_reservation_details": get_reservation_details,
    "get_user_details": get_user_details,
    "list_all_airports": list_all_airports,
    "search_direct_flight": search_direct_flight,
    "search_onestop_flight": search_onestop_flight,
    "send_certificate": send_certificate,
    "think": think,
    "transfer_to_human_agents": transfer_to_human_agents,
    "update_reservation_baggages": update_reservation_baggages,
    "update_reservation_flights": update_reservation_flights,
    "update_reservation_passengers": update_reservation_passengers,
}
