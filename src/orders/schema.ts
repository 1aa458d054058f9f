import { Type, type Static } from '@sinclair/typebox';

/**
 * The order as a sales channel sends it (SPEC §3). This is the *shape* only: types, enums, sizes.
 * Fields that business rules need (phone, street, tax id, ...) are optional here on purpose: a missing
 * phone is accepted and becomes a ticket, not a 400.
 */

const MAX_TEXT = 500;

/** A decimal amount with at most two decimals, as a string: "129.90", "0", "7.5". */
export const MONEY_PATTERN = '^(0|[1-9][0-9]{0,11})(\\.[0-9]{1,2})?$';
/** A rate as a decimal string: "0.23", "0", "1". */
export const RATE_PATTERN = '^(0|[1-9][0-9]?)(\\.[0-9]{1,4})?$';

const Text = (maxLength = MAX_TEXT) => Type.String({ maxLength });
const OptionalText = (maxLength = MAX_TEXT) => Type.Optional(Type.Union([Type.String({ maxLength }), Type.Null()]));
const Money = Type.String({ pattern: MONEY_PATTERN, description: 'decimal string, at most two decimals' });

export const DELIVERY_METHODS = ['courier', 'parcel_locker', 'pickup_in_store', 'digital'] as const;
export const PAYMENT_METHODS = ['card', 'blik', 'bank_transfer', 'paypal', 'cod'] as const;
export const PAYMENT_STATUSES = ['pending', 'authorized', 'paid', 'failed', 'refunded'] as const;

export const AddressSchema = Type.Object(
  {
    name: OptionalText(),
    company: OptionalText(),
    street: OptionalText(),
    postalCode: OptionalText(32),
    city: OptionalText(),
    region: OptionalText(),
    country: OptionalText(8),
  },
  { additionalProperties: false },
);

export const OrderLineSchema = Type.Object(
  {
    sku: Text(100),
    name: OptionalText(),
    quantity: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    unitPrice: Money,
    taxRate: Type.Optional(Type.String({ pattern: RATE_PATTERN })),
  },
  { additionalProperties: false },
);

export const OrderSchema = Type.Object(
  {
    channel: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
    externalId: Type.String({ minLength: 1, maxLength: 128 }),
    placedAt: Type.Optional(Type.String({ format: 'date-time' })),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    customer: Type.Object(
      {
        name: OptionalText(),
        email: OptionalText(320),
        phone: OptionalText(64),
      },
      { additionalProperties: false },
    ),
    delivery: Type.Object(
      {
        method: Type.Union(DELIVERY_METHODS.map((m) => Type.Literal(m))),
        lockerId: OptionalText(64),
        storeId: OptionalText(64),
      },
      { additionalProperties: false },
    ),
    shippingAddress: Type.Optional(Type.Union([AddressSchema, Type.Null()])),
    invoice: Type.Optional(
      Type.Union([
        Type.Object(
          {
            requested: Type.Boolean(),
            companyName: OptionalText(),
            taxId: OptionalText(64),
            address: Type.Optional(Type.Union([AddressSchema, Type.Null()])),
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ]),
    ),
    lines: Type.Array(OrderLineSchema, { minItems: 1, maxItems: 1000 }),
    totals: Type.Object(
      {
        subtotal: Money,
        shipping: Money,
        tax: Money,
        grandTotal: Money,
      },
      { additionalProperties: false },
    ),
    payment: Type.Object(
      {
        method: Type.Union(PAYMENT_METHODS.map((m) => Type.Literal(m))),
        status: Type.Union(PAYMENT_STATUSES.map((m) => Type.Literal(m))),
        amount: Money,
        currency: Type.String({ pattern: '^[A-Z]{3}$' }),
        reference: OptionalText(128),
      },
      { additionalProperties: false },
    ),
    /** Free-form data a channel wants to keep with the order; never interpreted by Ordo. */
    metadata: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), { maxProperties: 50 })),
  },
  // `OrderData`: the order JSON a channel sends; the API's `Order` is the order Ordo keeps, with this as its `data`.
  { additionalProperties: false, $id: 'OrderData', description: 'The order JSON as a sales channel sends it (SPEC §3)' },
);

export type Order = Static<typeof OrderSchema>;
export type Address = Static<typeof AddressSchema>;
export type OrderLine = Static<typeof OrderLineSchema>;
export type DeliveryMethod = (typeof DELIVERY_METHODS)[number];
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
