//! Each customer's purchase history in the window, as the paper defines it: x repeat purchases
//! (transaction days after the first; orders on one day are one), tₓ the time of the last after
//! the first, T the time from the first to the window's last day (the day before as-of, as BTYD's
//! `elog2cbs` counts it), and the mean value of the repeat purchases. An order counts unless it
//! is a net refund: a zero-value order is still a visit to the shop.

use rayon::slice::ParallelSliceMut;

use super::gamma_gamma::Spend;
use crate::features::OrderDay;

pub struct Histories {
    /// The window's last day (as-of − 1).
    pub window_end: i32,
    pub first_day: Vec<Option<i32>>,
    pub last_day: Vec<i32>,
    /// Transaction days in the window.
    pub days: Vec<u32>,
    /// Net value of the repeat transaction days, in millionths.
    pub repeat_spend: Vec<i64>,
}

/// One customer's transaction days with their net value: (customer, day, millionths), sorted.
pub fn transaction_days(orders: &[OrderDay]) -> Vec<(u32, i32, i64)> {
    let mut kept: Vec<(u32, i32, i64)> = orders
        .iter()
        .filter(|o| o.net >= 0)
        .map(|o| (o.customer, o.day, o.net))
        .collect();
    kept.par_sort_unstable_by_key(|&(c, d, _)| (c, d));
    let mut days: Vec<(u32, i32, i64)> = Vec::with_capacity(kept.len());
    for (customer, day, net) in kept {
        match days.last_mut() {
            Some(last) if last.0 == customer && last.1 == day => last.2 += net,
            _ => days.push((customer, day, net)),
        }
    }
    days
}

impl Histories {
    /// The histories of `customers` from their orders before `as_of_day`.
    pub fn of(orders: &[OrderDay], customers: usize, as_of_day: i32) -> Histories {
        let mut h = Histories {
            window_end: as_of_day - 1,
            first_day: vec![None; customers],
            last_day: vec![0; customers],
            days: vec![0; customers],
            repeat_spend: vec![0; customers],
        };
        for (customer, day, net) in transaction_days(orders) {
            let c = customer as usize;
            if h.first_day[c].is_some() {
                h.repeat_spend[c] += net;
            } else {
                h.first_day[c] = Some(day);
            }
            h.days[c] += 1;
            h.last_day[c] = day;
        }
        h
    }

    /// Customers with at least one transaction in the window: the ones the model describes.
    pub fn modelled(&self) -> usize {
        self.first_day.iter().flatten().count()
    }

    /// (x, tₓ, T) of customer `i` in units of `unit_days`; None without a transaction.
    pub fn in_units(&self, i: usize, unit_days: f64) -> Option<(f64, f64, f64)> {
        let first = self.first_day[i]?;
        let x = f64::from(self.days[i] - 1);
        let t_x = f64::from(self.last_day[i] - first) / unit_days;
        let t = f64::from(self.window_end - first) / unit_days;
        Some((x, t_x, t))
    }

    /// The repeat purchases' count and mean value; None without repeat purchases.
    pub fn spend(&self, i: usize) -> Option<Spend> {
        self.first_day[i]?;
        let x = self.days[i].checked_sub(1).filter(|&x| x > 0)?;
        Some(Spend {
            x: f64::from(x),
            mean: self.repeat_spend[i] as f64 / crate::load::MICROS / f64::from(x),
        })
    }

    /// Days since the last transaction, counted to as-of as `recency_days` is.
    pub fn recency_days(&self, i: usize) -> Option<i32> {
        self.first_day[i]?;
        Some(self.window_end + 1 - self.last_day[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(customer: u32, day: i32, net: f64) -> OrderDay {
        OrderDay {
            customer,
            day,
            net: (net * 1e6) as i64,
        }
    }

    #[test]
    fn orders_on_one_day_are_one_purchase_and_refunds_are_none() {
        // Customer 0: day 10 (two orders), day 17, a refund on day 20, a free sample on day 24;
        // customer 1 only refunds; customer 2 never orders. As of day 31: window ends on day 30.
        let orders = [
            order(0, 10, 20.0),
            order(0, 10, 5.0),
            order(0, 17, 30.0),
            order(0, 20, -30.0),
            order(0, 24, 0.0),
            order(1, 12, -8.0),
        ];
        let h = Histories::of(&orders, 3, 31);
        assert_eq!(h.in_units(0, 1.0), Some((2.0, 14.0, 20.0)));
        assert_eq!(h.in_units(0, 7.0), Some((2.0, 2.0, 20.0 / 7.0)));
        let spend = h.spend(0).unwrap();
        assert_eq!((spend.x, spend.mean), (2.0, 15.0));
        assert_eq!(h.recency_days(0), Some(7));
        assert_eq!(h.in_units(1, 1.0), None);
        assert_eq!(h.in_units(2, 1.0), None);
        assert_eq!(h.modelled(), 1);
    }
}
