"use client";

import { formatMoney } from "@/lib/money";

// A select of the accepted currencies; `priceOf` shows each one's price beside its code.
export default function CurrencyPicker({ id, priceList, value, onChange, disabled, priceOf, label = "Currency" }) {
  const options = priceList?.currencies || [];
  if (options.length < 2) return null;
  return (
    <div className="field currency-field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        name="currency"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        disabled={disabled}
        data-testid={`${id}-select`}
      >
        {options.map((c) => (
          <option key={c.currency} value={c.currency}>
            {c.currency.toUpperCase()}
            {priceOf ? ` — ${formatMoney(priceOf(c), c.currency)}` : ""}
          </option>
        ))}
      </select>
    </div>
  );
}
